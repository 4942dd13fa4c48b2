import { Command } from 'commander';
import { formatUtc } from '../domain/time.js';
import { whyNotRerun } from '../engine/recovery.js';
import { getProjectView } from '../store/projects.js';
import { FIRST_START, SNAPSHOT_NAME, deleteSnapshot, listSnapshots, restoreSnapshot, saveSnapshot } from '../store/snapshots.js';
import type { Runner, Table } from './admin.js';

/**
 * `opencph admin snapshots`: a project's snapshots and its reset, as the /_opencph routes do them.
 * Beside a running server, a job it is running for the project finishes without writing anything:
 * its row is gone (decision 21).
 */
export function snapshotsCommand(run: Runner, table: Table): Command {
  const cmd = new Command('snapshots').description("a project's whole state saved under a name, restored, or reset to its first start");
  const project = async (db: Parameters<typeof getProjectView>[0], id: string) => {
    if (!(await getProjectView(db, id))) throw new Error(`No project has the id "${id}".`);
    return id;
  };
  const named = (name: string) => {
    if (!new RegExp(SNAPSHOT_NAME).test(name)) throw new Error('A snapshot name is 1 to 64 letters, digits, ".", "_" or "-".');
    return name;
  };
  cmd
    .command('list')
    .description("list a project's snapshots, oldest first")
    .requiredOption('--project <id>', 'the project (its id)')
    .action(
      run(async (deps, out, _args, o) => {
        const rows = await listSnapshots(deps.db, await project(deps.db, String(o.project)));
        table(out, ['NAME', 'CREATED', 'ROWS'], rows.map((s) => [s.name, formatUtc(s.createdAt), String(s.rows)]));
      }),
    );
  cmd
    .command('save <name>')
    .description("save the project's state under <name> (a snapshot of that name is replaced)")
    .requiredOption('--project <id>', 'the project (its id)')
    .action(
      run(async (deps, out, [name], o) => {
        const s = await saveSnapshot(deps.db, await project(deps.db, String(o.project)), named(name!), deps.clock.now());
        out(`saved snapshot ${s.name}: ${s.rows} rows`);
      }),
    );
  const restore = (verb: string, description: string, nameOf: (args: string[]) => string, said: (name: string) => string) =>
    cmd
      .command(verb)
      .description(description)
      .requiredOption('--project <id>', 'the project (its id)')
      .action(
        run(async (deps, out, args, o) => {
          const name = nameOf(args);
          const s = await restoreSnapshot(deps.db, await project(deps.db, String(o.project)), name, { now: deps.clock.now(), whyNotRerun });
          if (!s) throw new Error(name === FIRST_START ? "The project's first-start state is not recorded." : `The project has no snapshot "${name}".`);
          out(said(name));
        }),
      );
  restore('restore <name>', "put the project's state back as snapshot <name> saved it", ([name]) => named(name!), (name) => `restored snapshot ${name}`);
  restore('reset', 'put the project back as it was at its first start', () => FIRST_START, () => 'reset the project to its first-start state');
  cmd
    .command('delete <name>')
    .description('delete snapshot <name>')
    .requiredOption('--project <id>', 'the project (its id)')
    .action(
      run(async (deps, out, [name], o) => {
        if (!(await deleteSnapshot(deps.db, await project(deps.db, String(o.project)), named(name!)))) throw new Error(`The project has no snapshot "${name}".`);
        out(`deleted snapshot ${name}`);
      }),
    );
  return cmd;
}
