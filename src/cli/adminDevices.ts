import { Command, Option } from 'commander';
import { isValidName } from '../domain/text.js';
import { formatUtc } from '../domain/time.js';
import { phoneStatusName } from '../domain/status.js';
import { DEFAULT_ADB_SERVER } from '../fleet/adb/servers.js';
import { DEFAULT_PROJECT_ID } from '../runtime/node.js';
import { addDevice, listDevices, removeDevice } from '../store/devices.js';
import type { Runner, Table } from './admin.js';
import { adbServerArg } from './options.js';

/**
 * `opencph admin devices`: the adb fleet's mapping of devices to phones, grouped into servers. A
 * first use of an empty store seeds the default project without a simulated fleet, as
 * `serve --fleet adb` does (the hidden --fleet says so to the runner).
 */
export function devicesCommand(run: Runner, table: Table): Command {
  const cmd = new Command('devices').description('the adb fleet: which device (serial on an adb server) each phone is, grouped into servers');
  const adbFleet = () => new Option('--fleet <kind>').default('adb').hideHelp();
  const projectOption = () => new Option('--project <id>', 'the project (its id)').default(DEFAULT_PROJECT_ID);
  const adbServerOption = () => new Option('--adb-server <host:port>', 'the adb server the device is attached to').default(DEFAULT_ADB_SERVER).argParser(adbServerArg('adb-server'));
  cmd
    .command('add')
    .description('map a device to a new phone of the project, on the server of that name (created if the project has none)')
    .addOption(projectOption())
    .requiredOption('--server-name <name>', 'the server grouping the device (e.g. one per host or rack)')
    .requiredOption('--serial <serial>', 'the device as `adb devices` lists it: emulator-5554, 10.0.0.7:5555, a USB serial')
    .addOption(adbServerOption())
    .option('--name <phone-name>', "the phone's name (default: the serial)")
    .addOption(adbFleet())
    .action(
      run(async (deps, out, _args, o) => {
        const serverName = String(o.serverName);
        if (!isValidName(serverName)) throw new Error('A server name is 1 to 60 letters, digits, "-" or "_".');
        if (o.name !== undefined && !isValidName(String(o.name))) throw new Error('A phone name is 1 to 60 letters, digits, "-" or "_".');
        const serial = String(o.serial);
        if (!/^[\x21-\x7e]{1,255}$/.test(serial)) throw new Error('A serial is 1 to 255 printable characters without spaces.');
        const r = await addDevice(deps.db, {
          projectId: String(o.project),
          serverName,
          serial,
          adbServer: String(o.adbServer),
          ...(o.name !== undefined ? { phoneName: String(o.name) } : {}),
          now: deps.clock.now(),
          ids: deps.ids,
        });
        if (!r.ok) throw new Error(r.reason);
        out(`mapped ${r.device.serial} on ${r.device.adb_server} to phone ${r.device.phone_name} (${r.device.phone_id}) of server ${serverName} (${r.device.server_id}${r.serverCreated ? ', created' : ''})`);
      }),
    );
  cmd
    .command('list')
    .description('list the mapped devices, of one project or of all')
    .option('--project <id>', 'only this project (default: every project)')
    .addOption(adbFleet())
    .action(
      run(async (deps, out, _args, o) => {
        const rows = await listDevices(deps.db, o.project === undefined ? undefined : String(o.project));
        table(
          out,
          ['SERIAL', 'ADB SERVER', 'PHONE', 'PHONE ID', 'STATUS', 'SERVER', 'PROJECT', 'MAPPED'],
          rows.map((d) => [d.serial, d.adb_server, d.phone_name, d.phone_id, `${d.status} (${phoneStatusName(d.status)})`, d.server_name, d.project_id, formatUtc(d.create_time)]),
        );
      }),
    );
  cmd
    .command('remove')
    .description("take a device out of the mapping; its phone stays, and its jobs fail with CPS.0985 until a device is mapped to it again")
    .addOption(projectOption())
    .requiredOption('--serial <serial>', 'the device')
    .addOption(adbServerOption())
    .addOption(adbFleet())
    .action(
      run(async (deps, out, _args, o) => {
        const phoneId = await removeDevice(deps.db, String(o.project), String(o.adbServer), String(o.serial));
        if (!phoneId) throw new Error(`The project has no device ${o.serial} on ${o.adbServer}.`);
        out(`removed ${o.serial} on ${o.adbServer} (it was phone ${phoneId})`);
      }),
    );
  return cmd;
}
