import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import { CliError } from './errors.js';
import { configPath, profileName, readConfig, saveProfile, type Profile } from './profiles.js';

/**
 * `opencph configure`: write a profile (endpoint, project id, region, and an access key or a user
 * and password) to the profiles file, mode 0600. Asks for what the flags do not give, unless
 * --non-interactive; secrets are not echoed on a terminal.
 */

interface ConfigureOptions {
  profile?: string;
  endpoint?: string;
  projectId?: string;
  region?: string;
  iamEndpoint?: string;
  ak?: string;
  sk?: string;
  user?: string;
  password?: string;
  account?: string;
  nonInteractive?: boolean;
}

/** Questions on stdin; lines that arrive before their question are kept for it. */
function asker() {
  let muted = false;
  const output = new Writable({
    write(chunk, _enc, done) {
      if (!muted) process.stdout.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: process.stdin.isTTY === true });
  const lines = rl[Symbol.asyncIterator]();
  return {
    async ask(question: string, current: string | undefined, secret = false): Promise<string | undefined> {
      const shown = current === undefined ? '' : secret ? ' [keep]' : ` [${current}]`;
      process.stdout.write(`${question}${shown}: `);
      muted = secret && process.stdin.isTTY === true;
      const next = await lines.next();
      muted = false;
      if (secret && process.stdin.isTTY) process.stdout.write('\n');
      if (next.done) throw new CliError('No answer on stdin: give the values as flags with --non-interactive.');
      const answer = String(next.value).trim();
      return answer === '' ? current : answer;
    },
    close: () => rl.close(),
  };
}

export function configureCommand(): Command {
  return new Command('configure')
    .description('Write a profile: where the client calls (endpoint, project) and as whom (access key, or user and password)')
    .option('--profile <name>', 'the profile to write (default: $OPENCPH_PROFILE, else "default")')
    .option('--endpoint <url>', 'the CPH endpoint: http://127.0.0.1:8780 for a local OpenCPH, https://cph.cn-north-4.myhuaweicloud.com on Huawei Cloud')
    .option('--project-id <id>', 'the project id')
    .option('--region <region>', 'the region, e.g. cn-north-4')
    .option('--iam-endpoint <url>', 'where IAM tokens are asked for (default: the endpoint; on Huawei Cloud https://iam.myhuaweicloud.com)')
    .option('--ak <access-key>', 'access key (requests are signed with SDK-HMAC-SHA256)')
    .option('--sk <secret-key>', 'secret key')
    .option('--user <name>', 'IAM user name (instead of an access key: the client gets a token and keeps it until it expires)')
    .option('--password <password>', 'IAM password')
    .option('--account <name>', 'the account (IAM domain) of the user (default: the user name)')
    .option('--non-interactive', 'ask nothing: take the flags as they are')
    .addHelpText(
      'after',
      `
Environment variables override the profile's fields when the client runs: OPENCPH_ENDPOINT,
OPENCPH_PROJECT_ID, OPENCPH_REGION, OPENCPH_IAM_ENDPOINT, OPENCPH_AK, OPENCPH_SK, OPENCPH_USER,
OPENCPH_PASSWORD, OPENCPH_ACCOUNT; OPENCPH_PROFILE picks the profile; OPENCPH_CONFIG the file
(default: $XDG_CONFIG_HOME/opencph/config.json, else ~/.config/opencph/config.json).

Example:
  $ opencph configure --non-interactive --endpoint http://127.0.0.1:8780 \\
      --project-id 0123456789abcdef0123456789abcdef \\
      --ak EXAMPLEAK0000000001 --sk ExampleSecretKey0000000000000000000000000
`,
    )
    .action(async (o: ConfigureOptions) => {
      const path = configPath();
      const name = profileName(o.profile);
      const old: Profile = readConfig(path).profiles[name] ?? {};
      const flags: Profile = {
        endpoint: o.endpoint,
        project_id: o.projectId,
        region: o.region,
        iam_endpoint: o.iamEndpoint,
        ak: o.ak,
        sk: o.sk,
        user: o.user,
        password: o.password,
        account: o.account,
      };
      // Flags naming one kind of credential replace the other kind kept before.
      const base: Profile = o.ak || o.sk ? { ...old, user: undefined, password: undefined, account: undefined } : o.user || o.password ? { ...old, ak: undefined, sk: undefined } : old;
      const p: Profile = { ...base, ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) };
      if (!o.nonInteractive) {
        const a = asker();
        try {
          p.endpoint = await a.ask('CPH endpoint', p.endpoint ?? 'http://127.0.0.1:8780');
          p.project_id = await a.ask('Project id', p.project_id);
          p.region = await a.ask('Region (optional)', p.region);
          if (!(o.user || o.password)) {
            p.ak = await a.ask('Access key (empty: log in with a user and password)', p.ak);
            if (p.ak) p.sk = await a.ask('Secret key', p.sk, true);
          }
          if (!p.ak) {
            p.user = await a.ask('User', p.user);
            p.password = await a.ask('Password', p.password, true);
            p.account = await a.ask('Account (IAM domain)', p.account ?? p.user);
            p.iam_endpoint = await a.ask('IAM endpoint (empty: the CPH endpoint)', p.iam_endpoint);
          }
        } finally {
          a.close();
        }
      }
      if (!p.endpoint) throw new CliError('Give the endpoint (--endpoint).');
      try {
        new URL(p.endpoint);
      } catch {
        throw new CliError(`The endpoint "${p.endpoint}" is not a URL: give one like http://127.0.0.1:8780.`);
      }
      if (!p.project_id) throw new CliError('Give the project id (--project-id).');
      if (p.ak && !p.sk) throw new CliError('An access key needs its secret key (--sk).');
      if (!p.ak && !(p.user && p.password)) throw new CliError('Give an access key and secret key (--ak, --sk) or a user and password (--user, --password).');
      saveProfile(path, name, p);
      process.stdout.write(`wrote profile "${name}" to ${path} (${p.ak ? `access key ${p.ak}` : `user ${p.user}`}, project ${p.project_id})\n`);
    });
}
