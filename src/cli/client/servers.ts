import { Command } from 'commander';
import { serverStatusName } from '../../domain/status.js';
import { listPhones, listServers, resolveServers, restartServers, showServer } from './api.js';
import { run, submitted, verb, withWait } from './common.js';
import { fields, json, print, table } from './output.js';

/** `opencph servers list|show|restart`. */
export function serversCommand(): Command {
  const servers = new Command('servers').description('The project\'s cloud phone servers: list, show, restart.');
  servers.addCommand(
    verb('list', 'list the servers, with their status and phone count', 'opencph servers list')
      .action(
        run(async (s, _args, o) => {
          const list = await listServers(s);
          if (o.output === 'json') return print(json({ count: list.length, servers: list }));
          const phones = await listPhones(s);
          print(
            table(list, [
              { title: 'SERVER_ID', value: (x) => x.server_id },
              { title: 'NAME', value: (x) => x.server_name },
              { title: 'STATUS', value: (x) => `${x.status} ${serverStatusName(x.status)}` },
              { title: 'PHONES', value: (x) => phones.filter((p) => p.server_id === x.server_id).length },
              { title: 'MODEL', value: (x) => x.server_model_name },
            ]),
          );
        }),
      ),
  );
  servers.addCommand(
    verb('show', 'a server\'s details', 'opencph servers show server-1')
      .argument('<server>', 'server id or name')
      .action(
        run(async (s, [name], o) => {
          const [x] = await resolveServers(s, [name as string]);
          const detail = await showServer(s, x!.server_id);
          print(o.output === 'json' ? json(detail) : fields({ ...detail, status: `${detail.status} ${serverStatusName(detail.status)}` }));
        }),
      ),
  );
  servers.addCommand(
    withWait(verb('restart', 'restart servers (their phones restart with them)', 'opencph servers restart server-1 --wait'))
      .argument('<servers...>', 'server ids or names')
      .action(
        run(async (s, [names], o) => {
          const list = await resolveServers(s, names as string[]);
          return submitted(s, await restartServers(s, list.map((x) => x.server_id)), o, new Map(list.map((x) => [x.server_id, x.server_name])));
        }),
      ),
  );
  return servers;
}
