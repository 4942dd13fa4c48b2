import { Command, Option } from 'commander';
import pino from 'pino';
import {
  createAccessKey,
  createAccount,
  createUser,
  grantProject,
  requireAccount,
  requireUser,
  setAccessKeyEnabledByAk,
  setUserEnabledByName,
  type AdminDeps,
} from '../auth/admin.js';
import { isLocked } from '../auth/lockout.js';
import { DEFAULTS, makeConfig } from '../config.js';
import { newId } from '../domain/ids.js';
import { formatUtc, systemClock } from '../domain/time.js';
import { createLogger } from '../runtime/log.js';
import { prepareStore } from '../runtime/node.js';
import { createProject } from '../runtime/projects.js';
import { openDb } from '../store/db.js';
import { listAccessKeys, listDomains, listUsers, projectIdsOfUser } from '../store/identity.js';
import { listProjectViews } from '../store/projects.js';
import { catalogueCommand, imagesCommand } from './adminCatalogue.js';
import { snapshotsCommand } from './adminSnapshots.js';
import { devicesCommand } from './adminDevices.js';
import { databaseOption, dataDirOption, identityConfig, identityOptions, int } from './options.js';

type Out = (line: string) => void;
type Action = (deps: AdminDeps, out: Out, args: string[], opts: Record<string, string | number>) => Promise<void>;
export type Runner = ReturnType<typeof runner>;
export type Table = typeof table;

/** Columns padded to their widest cell. */
function table(out: Out, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const r of [header, ...rows]) out(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

const yesNo = (flag: number) => (flag ? 'yes' : 'no');
const lockedCell = (row: { locked_until: number | null }, now: number) => (isLocked(row, now) ? `until ${formatUtc(row.locked_until!)}` : 'no');

/**
 * Open the store named by the admin command's options, bring it up to date (a first use seeds what a
 * first start would), run the action, close. Works beside a running server: it does not take the
 * data dir's lock (on PostgreSQL it takes its turn to migrate, as a starting node does).
 */
function runner(out: Out) {
  return (action: Action) => async (...args: unknown[]): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    const opts = cmd.optsWithGlobals() as Record<string, string | number>;
    const positional = args.slice(0, -2).filter((a): a is string => typeof a === 'string');
    // A verb of the adb fleet (--fleet adb) seeds no simulated fleet into an empty store.
    const fleet = opts.fleet === 'adb' ? ('adb' as const) : undefined;
    const config = makeConfig({ dataDir: opts.dataDir as string, database: opts.database as string | undefined, fleet, ...identityConfig(opts) });
    const log = createLogger('warn', pino.destination(2));
    const handle = openDb({ url: config.database, sqliteSync: config.sqliteSync });
    try {
      await prepareStore(handle, config, systemClock, newId, log);
      await action({ db: handle.db, clock: systemClock, ids: newId }, out, positional, opts);
    } finally {
      await handle.close();
    }
  };
}

/** One rule for `--account` in every group, so a name never means one account here and another there. */
const ACCOUNT_RULE = [
  'Users, projects and access keys belong to an account; every users/projects/keys verb takes',
  '--account <name>. A verb that names a user, project or key looks in that account, by default',
  'the default account (--default-account); a list shows every account (its ACCOUNT column)',
  'unless --account names one.',
].join('\n');

const accountOption = () => new Option('--account <name>', 'the account (IAM domain) to look in (default: the default account, --default-account)');
const listAccountOption = () => new Option('--account <name>', 'only this account (default: every account)');

/** The account a verb acts in: `--account`, or the default account. */
const accountOf = (o: Record<string, string | number>) => String(o.account ?? o.defaultAccount);

/** The ACCOUNT column: every list has it first. */
async function accountNames(deps: AdminDeps): Promise<(domainId: string | null) => string> {
  const names = new Map((await listDomains(deps.db)).map((d) => [d.domain_id, d.name]));
  return (id) => (id === null ? '' : (names.get(id) ?? id));
}

/** The account a list shows: the one `--account` names, or every account (undefined). */
async function listedAccount(deps: AdminDeps, o: Record<string, string | number>): Promise<string | undefined> {
  return o.account === undefined ? undefined : (await requireAccount(deps.db, String(o.account))).domain_id;
}

function accounts(run: ReturnType<typeof runner>): Command {
  const cmd = new Command('accounts').description('accounts (IAM domains)');
  cmd
    .command('create <name>')
    .description('create an account')
    .action(
      run(async (deps, out, [name]) => {
        const d = await createAccount(deps, name!);
        out(`created account ${d.name} (${d.domain_id})`);
      }),
    );
  cmd
    .command('list')
    .description('list accounts')
    .action(
      run(async (deps, out) => {
        const rows = await listDomains(deps.db);
        table(out, ['ACCOUNT', 'ID', 'ENABLED', 'CREATED'], rows.map((d) => [d.name, d.domain_id, yesNo(d.enabled), formatUtc(d.created_at)]));
      }),
    );
  return cmd;
}

function users(run: ReturnType<typeof runner>): Command {
  const cmd = new Command('users').description('users of an account').addHelpText('after', `\n${ACCOUNT_RULE}`);
  cmd
    .command('create <name>')
    .description('create a user with a password')
    .addOption(accountOption())
    .addOption(new Option('--password <password>', 'the password (8 to 128 characters)').env('OPENCPH_NEW_PASSWORD').makeOptionMandatory())
    .action(
      run(async (deps, out, [name], o) => {
        const u = await createUser(deps, { account: accountOf(o), name: name!, password: String(o.password) });
        out(`created user ${u.name} (${u.user_id}) in account ${accountOf(o)}`);
      }),
    );
  cmd
    .command('list')
    .description('list users (with their projects) of every account, or of --account')
    .addOption(listAccountOption())
    .action(
      run(async (deps, out, _args, o) => {
        const account = await accountNames(deps);
        const projects = new Map((await listProjectViews(deps.db)).map((p) => [p.project_id, p.name]));
        const now = deps.clock.now();
        const rows = [];
        for (const u of await listUsers(deps.db, await listedAccount(deps, o))) {
          const names = (await projectIdsOfUser(deps.db, u.user_id)).map((id) => projects.get(id) ?? id);
          rows.push([account(u.domain_id), u.name, u.user_id, yesNo(u.enabled), lockedCell(u, now), names.join(',')]);
        }
        table(out, ['ACCOUNT', 'USER', 'ID', 'ENABLED', 'LOCKED', 'PROJECTS'], rows);
      }),
    );
  for (const [verb, enabled] of [
    ['disable', false],
    ['enable', true],
  ] as const) {
    cmd
      .command(`${verb} <name>`)
      .description(`${verb} a user (${enabled ? 'its tokens work again at once, its access keys within a second' : 'its tokens stop working at once, its access keys within a second'})`)
      .addOption(accountOption())
      .action(
        run(async (deps, out, [name], o) => {
          await setUserEnabledByName(deps, accountOf(o), name!, enabled);
          out(`${verb}d user ${name}`);
        }),
      );
  }
  cmd
    .command('grant <name> <project>')
    .description('let a user use a project (given by id or name)')
    .addOption(accountOption())
    .action(
      run(async (deps, out, [name, project], o) => {
        const p = await grantProject(deps, { account: accountOf(o), user: name!, project: project! });
        out(`granted project ${p.name} (${p.project_id}) to user ${name}`);
      }),
    );
  return cmd;
}

function projects(run: ReturnType<typeof runner>): Command {
  const cmd = new Command('projects').description('projects, each with its own simulated fleet').addHelpText('after', `\n${ACCOUNT_RULE}`);
  cmd
    .command('create <name>')
    .description('create a project (its id is 32 hex characters) with a simulated fleet')
    .addOption(accountOption())
    .addOption(new Option('--servers <n>', 'simulated servers').default(DEFAULTS.servers).argParser(int('servers', 0)))
    .addOption(new Option('--phones-per-server <n>', 'simulated phones per server').default(DEFAULTS.phonesPerServer).argParser(int('phones-per-server', 0)))
    .action(
      run(async (deps, out, [name], o) => {
        const p = await createProject(deps, { account: accountOf(o), name: name!, servers: Number(o.servers), phonesPerServer: Number(o.phonesPerServer) });
        out(`created project ${p.name} (${p.project_id}) in account ${accountOf(o)}: ${o.servers} simulated server(s) of ${o.phonesPerServer} phone(s)`);
        out(`grant it with: opencph admin users grant <user> ${p.name} --account ${accountOf(o)}`);
      }),
    );
  cmd
    .command('list')
    .description('list projects of every account, or of --account')
    .addOption(listAccountOption())
    .action(
      run(async (deps, out, _args, o) => {
        const account = await accountNames(deps);
        const rows = await listProjectViews(deps.db, await listedAccount(deps, o));
        table(out, ['ACCOUNT', 'PROJECT', 'ID'], rows.map((p) => [account(p.domain_id), p.name, p.project_id]));
      }),
    );
  return cmd;
}

function keys(run: ReturnType<typeof runner>): Command {
  const cmd = new Command('keys').description('access keys (AK/SK) of users').addHelpText('after', `\n${ACCOUNT_RULE}`);
  cmd
    .command('create')
    .description('create an access key for a user; the secret key is printed once')
    .addOption(accountOption())
    .requiredOption('--user <name>', 'the user the key acts as')
    .option('--description <text>', 'what the key is for', '')
    .action(
      run(async (deps, out, _args, o) => {
        const k = await createAccessKey(deps, { account: accountOf(o), user: String(o.user), description: String(o.description) });
        out(`access key: ${k.ak}`);
        out(`secret key: ${k.sk}`);
        out('The secret key is shown only now: keep it.');
      }),
    );
  cmd
    .command('list')
    .description('list access keys (never their secrets) of every account, or of --account')
    .addOption(listAccountOption())
    .option('--user <name>', 'only the keys of this user (of --account, by default the default account)')
    .action(
      run(async (deps, out, _args, o) => {
        const account = await accountNames(deps);
        const user = o.user === undefined ? undefined : await requireUser(deps.db, accountOf(o), String(o.user));
        const rows = await listAccessKeys(deps.db, { userId: user?.user_id, domainId: await listedAccount(deps, o) });
        const now = deps.clock.now();
        table(
          out,
          ['ACCOUNT', 'ACCESS KEY', 'USER', 'ENABLED', 'LOCKED', 'CREATED', 'DESCRIPTION'],
          rows.map((k) => [account(k.domain_id), k.access_key, k.user_name, yesNo(k.enabled), lockedCell(k, now), formatUtc(k.created_at), k.description]),
        );
      }),
    );
  for (const [verb, enabled] of [
    ['disable', false],
    ['enable', true],
  ] as const) {
    cmd
      .command(`${verb} <ak>`)
      .description(`${verb} an access key (servers ${enabled ? 'accept' : 'refuse'} its signed calls within a second)`)
      .addOption(accountOption())
      .action(
        run(async (deps, out, [ak], o) => {
          await setAccessKeyEnabledByAk(deps, accountOf(o), ak!, enabled);
          out(`${verb}d access key ${ak}`);
        }),
      );
  }
  return cmd;
}

/** `opencph admin`; `out` receives each line of output (stdout by default). */
export function adminCommand(out: Out = (line) => process.stdout.write(line + '\n')): Command {
  const run = runner(out);
  const cmd = new Command('admin')
    .description('Manage accounts, users, projects, access keys, images, the model catalogue, snapshots and the adb fleet devices, directly in the database (also while a server runs).')
    .addHelpText('after', `\n${ACCOUNT_RULE}`)
    .addCommand(accounts(run))
    .addCommand(users(run))
    .addCommand(projects(run))
    .addCommand(keys(run))
    .addCommand(imagesCommand(run))
    .addCommand(catalogueCommand(run, table))
    .addCommand(snapshotsCommand(run, table))
    .addCommand(devicesCommand(run, table));
  for (const option of [dataDirOption(), databaseOption(), ...identityOptions()]) cmd.addOption(option);
  return cmd;
}
