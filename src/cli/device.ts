import { Command, Option } from 'commander';
import pino from 'pino';
import { makeConfig } from '../config.js';
import { newId } from '../domain/ids.js';
import { systemClock } from '../domain/time.js';
import { androidState } from '../engine/androidState.js';
import { phoneOf } from '../engine/fleetView.js';
import { startVirtualDevices } from '../fleet/adbdevice/server.js';
import { createLogger } from '../runtime/log.js';
import { prepareStore } from '../runtime/node.js';
import { openDb } from '../store/db.js';
import { loadPhones } from '../store/fleet.js';
import { databaseOption, dataDirOption, identityConfig, identityOptions, int } from './options.js';

/**
 * `opencph device`: the simulated phones of a store as adb devices, one TCP port each from a base
 * port, until Ctrl-C. It opens the store as `admin` does, so it runs beside `opencph serve` on the
 * same data dir or database: what `adb install` or `adb push` does shows in the CPH API, and what a
 * job does shows through adb.
 */
/**
 * Above the ports 5555–5585 that an adb server probes for emulators by itself: a device there would
 * show twice (`emulator-5554` and `127.0.0.1:5555`), and only on odd ports.
 */
const DEFAULT_BASE_PORT = 6555;

export function deviceCommand(): Command {
  const cmd = new Command('device')
    .description('Expose simulated phones as adb devices on TCP ports: adb connect 127.0.0.1:PORT, then adb shell, push, pull, install, install-multiple, reboot.')
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .addOption(new Option('--phone <id...>', 'only these phones (default: every phone, or every phone of --project)'))
    .addOption(new Option('--project <id>', 'only the phones of this project'))
    .addOption(new Option('--host <address>', 'address to listen on').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'the first phone\'s port, the next ones following in order of phone name (0 = any free port for each)').default(DEFAULT_BASE_PORT).argParser(int('port', 0, 65535)))
    .addOption(new Option('--reboot-ms <ms>', 'how long adb reboot keeps a device offline').default(1000).argParser(int('reboot-ms', 0)))
    .action(async (opts: Record<string, unknown>) => {
      const config = makeConfig({ dataDir: opts.dataDir as string, database: opts.database as string | undefined, ...identityConfig(opts) });
      const log = createLogger('warn', pino.destination(2));
      const handle = openDb({ url: config.database, sqliteSync: config.sqliteSync });
      const close = async () => {
        await devices?.stop();
        await handle.close();
      };
      let devices: Awaited<ReturnType<typeof startVirtualDevices>> | undefined;
      const names = new Map<string, string>();
      try {
        await prepareStore(handle, config, systemClock, newId, log);
        let q = handle.db.selectFrom('phones').select('phone_id').orderBy('phone_name').orderBy('phone_id');
        if (opts.project) q = q.where('project_id', '=', opts.project as string);
        const wanted = opts.phone as string[] | undefined;
        if (wanted) q = q.where('phone_id', 'in', wanted);
        const ids = (await q.execute()).map((r) => r.phone_id);
        const missing = wanted?.filter((id) => !ids.includes(id)) ?? [];
        if (missing.length) throw new Error(`no such phone: ${missing.join(', ')}`);
        if (ids.length === 0) throw new Error('there is no phone to expose');
        const rows = new Map((await loadPhones(handle.db, ids)).map((r) => [r.phone_id, r]));
        for (const r of rows.values()) names.set(r.phone_id, r.phone_name);
        devices = await startVirtualDevices({
          state: androidState(handle.db),
          phones: ids.map((id) => phoneOf(rows.get(id)!)),
          lookup: async (id) => {
            const [row] = await loadPhones(handle.db, [id]);
            return row && phoneOf(row);
          },
          host: opts.host as string,
          basePort: opts.port as number,
          rebootMs: opts.rebootMs as number,
          onError: (err) => log.warn({ err }, 'adb device'),
        });
      } catch (err) {
        await close();
        throw err;
      }
      const out = (line: string) => process.stdout.write(`${line}\n`);
      out('SERIAL  PHONE_ID  PHONE_NAME');
      for (const d of devices.devices) out(`${d.serial}  ${d.phoneId}  ${names.get(d.phoneId) ?? ''}`);
      out(`${devices.devices.length} adb device${devices.devices.length === 1 ? '' : 's'} listening; adb connect ${devices.devices[0]!.serial}; Ctrl-C stops.`);
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  for (const option of identityOptions()) cmd.addOption(option);
  return cmd;
}
