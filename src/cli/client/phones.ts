import { Command, InvalidArgumentError } from 'commander';
import { phoneStatusName } from '../../domain/status.js';
import { listPhones, renamePhone, resetPhones, resolvePhones, resolveServers, restartPhones, showPhone, stopPhones, type Phone, type Submitted } from './api.js';
import { run, submitted, verb, withTargets, withWait } from './common.js';
import type { Session } from './session.js';
import { fields, json, print, table } from './output.js';

/** `opencph phones list|show|restart|reset|stop|rename`. */

const int = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('an integer.');
  return n;
};

export const namesOf = (phones: readonly Phone[]) => new Map(phones.map((p) => [p.phone_id, p.phone_name]));

function batch(name: string, description: string, example: string, call: (s: Session, ids: string[]) => Promise<Submitted>): Command {
  return withWait(withTargets(verb(name, description, example)))
    .argument('[phones...]', 'phone ids or names')
    .action(
      run(async (s, [names], o) => {
        const phones = await resolvePhones(s, names as string[], o.server);
        return submitted(s, await call(s, phones.map((p) => p.phone_id)), o, namesOf(phones));
      }),
    );
}

export function phonesCommand(): Command {
  const phones = new Command('phones').description('The project\'s cloud phones: list, show, restart, reset, stop, rename.');
  phones.addCommand(
    verb('list', 'list the phones (all pages), with their status', 'opencph phones list\nopencph phones list --server server-1 --output json')
      .option('--server <id|name>', 'only the phones of this server')
      .option('--status <n>', 'only phones in this status (2 running, 8 stopped, …)', int)
      .option('--name <text>', 'only phones whose name contains this')
      .action(
        run(async (s, _args, o, cmd) => {
          const f = cmd.opts() as { server?: string; status?: number; name?: string };
          const serverId = f.server ? (await resolveServers(s, [f.server]))[0]!.server_id : undefined;
          const list = await listPhones(s, { server_id: serverId, status: f.status, phone_name: f.name });
          if (o.output === 'json') return print(json({ count: list.length, phones: list }));
          print(
            table(list, [
              { title: 'PHONE_ID', value: (p) => p.phone_id },
              { title: 'NAME', value: (p) => p.phone_name },
              { title: 'STATUS', value: (p) => `${p.status} ${phoneStatusName(p.status)}` },
              { title: 'SERVER_ID', value: (p) => p.server_id },
              { title: 'MODEL', value: (p) => p.phone_model_name },
            ]),
          );
        }),
      ),
  );
  phones.addCommand(
    verb('show', 'a phone\'s details', 'opencph phones show phone-1')
      .argument('<phone>', 'phone id or name')
      .action(
        run(async (s, [name], o) => {
          const [p] = await resolvePhones(s, [name as string]);
          const detail = await showPhone(s, p!.phone_id);
          print(o.output === 'json' ? json(detail) : fields({ ...detail, status: `${detail.status} ${phoneStatusName(detail.status)}` }));
        }),
      ),
  );
  phones.addCommand(batch('restart', 'restart phones (also starts stopped ones)', 'opencph phones restart phone-1 phone-2 --wait\nopencph phones restart --server server-1 --wait --timeout 120', restartPhones));
  phones.addCommand(batch('reset', 'reset phones to their image (user data goes)', 'opencph phones reset phone-1 --wait', resetPhones));
  phones.addCommand(batch('stop', 'stop phones', 'opencph phones stop phone-1 --wait', stopPhones));
  phones.addCommand(
    verb('rename', 'give a phone a new name', 'opencph phones rename phone-1 checkout-tests')
      .argument('<phone>', 'phone id or name')
      .argument('<new-name>', 'the new name')
      .action(
        run(async (s, [name, newName], o) => {
          const [p] = await resolvePhones(s, [name as string]);
          const answer = await renamePhone(s, p!.phone_id, newName as string);
          print(o.output === 'json' ? json(answer) : `renamed ${p!.phone_id} from ${p!.phone_name} to ${newName}\n`);
        }),
      ),
  );
  return phones;
}
