import { Errors } from '../../domain/errors.js';
import { ADB_OPERATIONS, type PhoneCommand } from '../../domain/commands.js';
import type { FleetEffects, Phone } from '../../domain/fleet.js';
import type { Properties } from '../../domain/property.js';
import { PhoneStatus, ServerStatus, phoneStatusName, serverStatusName } from '../../domain/status.js';
import type { DeviceMap, MappedDevice } from './deviceMap.js';
import { timeLimitReached, type Driver, type DriverContext, type DriverJob, type DriverOutcome } from '../driver.js';
import { commandOutcome, failOutcome, timedOutOutcome } from '../outcome.js';
import { ALLOWED_FROM, VERB, finalPhoneState, settledStatus } from '../sim/driver.js';
import { runCommand } from './commands.js';
import { isOnline, rebootAndWait } from './reboot.js';
import { AdbServerDown, parseAdbServer, type AdbServers } from './servers.js';
import { CommandCut, DeviceLost, runShell, shQuote } from './shell.js';

export interface AdbDriverOptions {
  /** Which device is which phone (the declared fleet). */
  devices: DeviceMap;
  /** The adb servers this node talks to (`host:port`); a device mapped to another fails with CPS.0986. */
  adbServers: readonly string[];
  servers: AdbServers;
  /** The local stand-in for OBS. */
  obsDir: string;
  /**
   * Runs the operations that only change records, never a device (server orders and changes, key
   * pairs, encode servers, volumes, traffic): the simulated fleet's bookkeeping, with no delay.
   */
  records: Driver;
}

/** Operations that would read or write a device's storage in ways an adb fleet does not offer (yet): refused with CPS.0989. */
const NOT_ON_ADB: ReadonlySet<string> = new Set([
  'phone.export-data',
  'phone.import-data',
  'server.push-share-files',
  'server.delete-share-files',
  'server.list-share-files',
  'server.push-share-apps',
  'server.delete-share-apps',
]);

/** The only properties a device without root lets the shell user set. */
const SETTABLE = /^(persist|debug)\./;

/** CPS.0990: the adb server does not answer; OpenCPH leaves starting it to its owner. */
function serverDown(adbServer: string, why: string, extra: Partial<DriverOutcome> = {}): DriverOutcome {
  const port = parseAdbServer(adbServer)?.port;
  return failOutcome(Errors.adbServerDown, `${adbServer}: ${why}. Start it on that host (adb -P ${port} start-server).`, extra);
}

/** Real devices behind adb servers, mapped to phones by the `devices` table. */
export class AdbDriver implements Driver {
  readonly name = 'adb';

  constructor(private readonly o: AdbDriverOptions) {}

  async run(job: DriverJob, ctx: DriverContext): Promise<DriverOutcome> {
    if (NOT_ON_ADB.has(job.operation)) return failOutcome(Errors.notOnAdbFleet, `${job.operation} needs the simulated fleet.`);
    if (job.operation === 'server.restart') return this.restartServer(job, ctx);
    const phone = job.phone;
    const server = job.server;
    const allowed = ALLOWED_FROM[job.operation];
    if (!allowed) return this.o.records.run(job, ctx);
    if (!phone || !server) return failOutcome(Errors.phoneNotFound, 'The phone no longer exists.');
    if (server.status !== ServerStatus.Normal) {
      return failOutcome(Errors.serverNotAvailable, `Server ${server.serverId} is ${serverStatusName(server.status)} (status ${server.status}).`);
    }
    if (!allowed.includes(settledStatus(phone.status))) {
      // An abnormal phone is one whose device is away: say why, when it still is.
      const away = phone.status === PhoneStatus.Abnormal ? await this.whyAway(phone) : undefined;
      return away ?? failOutcome(Errors.phoneNotAvailable, `Phone ${phone.phoneId} is ${phoneStatusName(phone.status)} (status ${phone.status}); it cannot ${VERB[job.operation]}.`);
    }
    // A stop keeps the device as it is (it could not be powered on again from here): OpenCPH refuses work on it until a restart or reset.
    if (job.operation === 'phone.stop') return { ok: true, effects: { phones: [finalPhoneState(job.operation, phone, job.params)] } };
    const device = await this.deviceOf(phone);
    if ('ok' in device) return device;
    if (ADB_OPERATIONS.has(job.operation)) {
      return this.onDevice(device, ctx, undefined, () =>
        runCommand(this.o.servers.client(device.adb_server).getDevice(device.serial), job.params.command as PhoneCommand, { obsDir: this.o.obsDir, jobId: job.jobId, signal: ctx.signal }),
      );
    }
    if (job.operation === 'phone.update-property') return this.updateProperty(job, phone, device, ctx);
    const reset = job.operation === 'phone.reset';
    await ctx.transition({ phones: [{ phoneId: phone.phoneId, status: reset ? PhoneStatus.Resetting : PhoneStatus.Restarting }] });
    const failedAs = { phones: [{ phoneId: phone.phoneId, status: reset ? PhoneStatus.ResetFailed : PhoneStatus.RestartFailed }] };
    return this.onDevice(device, ctx, failedAs, async () => {
      const wiped = reset ? await this.wipe(device, ctx.signal) : '';
      await rebootAndWait(this.o.servers, device.adb_server, device.serial, ctx.signal);
      return { ok: true, ...(wiped ? { executeMsg: wiped } : {}), effects: { phones: [finalPhoneState(job.operation, phone, job.params)] } };
    });
  }

  /** The phone's device, or why the job cannot reach one. */
  private async deviceOf(phone: Phone): Promise<MappedDevice | DriverOutcome> {
    const device = await this.o.devices.deviceOf(phone.phoneId);
    if (!device) return failOutcome(Errors.deviceNotMapped, `Map a device to phone ${phone.phoneId} with \`opencph admin devices add\`.`);
    if (!this.o.adbServers.includes(device.adb_server)) {
      return failOutcome(Errors.deviceUnreachable, `Device ${device.serial} is on adb server ${device.adb_server}, which this node does not use (--adb-server ${this.o.adbServers.join(', ')}).`);
    }
    return device;
  }

  /** Why an abnormal phone's device cannot take work now (no mapping, its adb server down, not listed), or undefined when it is back. */
  private async whyAway(phone: Phone): Promise<DriverOutcome | undefined> {
    const device = await this.deviceOf(phone);
    if ('ok' in device) return device;
    // One question, within its 5 s: the device list answers both whether the server is up and the device's state.
    let state: string | undefined;
    try {
      state = await this.o.servers.state(device.adb_server, device.serial);
    } catch (err) {
      if (err instanceof AdbServerDown) return serverDown(device.adb_server, err.why);
    }
    if (isOnline(state)) return undefined;
    return failOutcome(Errors.deviceUnreachable, `Device ${device.serial} is ${state ? `listed ${state}` : 'not listed'} on ${device.adb_server}; phone ${phone.phoneId} is abnormal (status -7) until it is back.`);
  }

  /**
   * Run `work` against the device, counted as waiting on something outside time. Its time limit
   * answers CPS.0904 for a command (CPS.0987 for a reboot) with the output so far; a device that goes
   * away, or an adb server that does not answer, CPS.0986, and the phone is left abnormal while its
   * device is not listed (the health watcher brings it back). `failedAs` is the fleet after a power
   * action that did not finish. A node shutting down throws: the job is handed back.
   */
  private async onDevice(device: MappedDevice, ctx: DriverContext, failedAs: FleetEffects | undefined, work: () => Promise<DriverOutcome>): Promise<DriverOutcome> {
    try {
      return await ctx.waiting(untilAborted(work(), ctx.signal));
    } catch (err) {
      const limit = timeLimitReached(ctx.signal);
      if (limit) {
        if (failedAs) return failOutcome(Errors.bootTimedOut, `Device ${device.serial} was not back within ${limit.limitMs / 1000} s.`, { effects: failedAs });
        return timedOutOutcome(limit.limitMs, err instanceof CommandCut ? err.output : undefined);
      }
      if (ctx.signal.aborted) throw err;
      const output = err instanceof DeviceLost ? err.output : undefined;
      const executeMsg = output !== undefined ? { executeMsg: output } : {};
      const abnormal: FleetEffects = { phones: [{ phoneId: device.phone_id, status: PhoneStatus.Abnormal }] };
      // One question: the device list says both whether the server answers and the device's state.
      let down = err instanceof AdbServerDown ? err.why : undefined;
      let online = false;
      if (down === undefined) {
        try {
          online = isOnline(await this.o.servers.state(device.adb_server, device.serial));
        } catch (listErr) {
          if (listErr instanceof AdbServerDown) down = listErr.why;
        }
      }
      if (down) return serverDown(device.adb_server, down, { ...executeMsg, effects: abnormal });
      const why = err instanceof DeviceLost ? err.message : (err as Error).message;
      const effects: FleetEffects | undefined = online ? failedAs : abnormal;
      return failOutcome(Errors.deviceUnreachable, `Device ${device.serial} on ${device.adb_server}: ${why}.`, { ...executeMsg, ...(effects ? { effects } : {}) });
    }
  }

  /** `setprop` of each property; only persist.* and debug.* reach a device without root. */
  private async updateProperty(job: DriverJob, phone: Phone, device: MappedDevice, ctx: DriverContext): Promise<DriverOutcome> {
    const update = (job.params.property as Properties | undefined) ?? {};
    const refused = Object.keys(update).filter((k) => !SETTABLE.test(k));
    if (refused.length) return failOutcome(Errors.propertyNotSettable, `Refused: ${refused.join(', ')}.`);
    return this.onDevice(device, ctx, undefined, async () => {
      const script = Object.entries(update)
        .map(([k, v]) => `setprop ${shQuote(k)} ${shQuote(v)}`)
        .join(' && ');
      if (script) {
        const r = await runShell(this.o.servers.client(device.adb_server).getDevice(device.serial), script, ctx.signal);
        if (r.exitCode !== 0) return commandOutcome(r);
      }
      return { ok: true, effects: { phones: [finalPhoneState(job.operation, phone, job.params)] } };
    });
  }

  /** What a reset does before its reboot: every user-installed app uninstalled, user storage (/sdcard) emptied. */
  private async wipe(device: MappedDevice, signal: AbortSignal): Promise<string> {
    const adb = this.o.servers.client(device.adb_server).getDevice(device.serial);
    const listed = await runShell(adb, 'pm list packages -3', signal);
    const packages = [...listed.output.matchAll(/^package:(\S+)/gm)].map((m) => m[1]!);
    const lines: string[] = [];
    for (const name of packages) {
      const r = await runShell(adb, `pm uninstall ${shQuote(name)}`, signal);
      lines.push(`uninstall ${name}: ${r.output.trim() || `exit ${r.exitCode}`}`);
    }
    const wiped = await runShell(adb, 'rm -rf /sdcard/*', signal);
    lines.push(`wipe /sdcard: ${wiped.exitCode === 0 ? 'done' : wiped.output.trim() || `exit ${wiped.exitCode}`}`);
    return lines.join('\n') + '\n';
  }

  /** A server restart reboots each of its mapped devices at once and waits for all. */
  private async restartServer(job: DriverJob, ctx: DriverContext): Promise<DriverOutcome> {
    const server = job.server;
    if (!server) return failOutcome(Errors.batchInvalidServerId, 'The server no longer exists.');
    if (server.status !== ServerStatus.Normal && server.status !== ServerStatus.Abnormal && server.status !== ServerStatus.Starting) {
      return failOutcome(Errors.serverNotAvailable, `Server ${server.serverId} is ${serverStatusName(server.status)} (status ${server.status}); it cannot restart.`);
    }
    const mapped: { phone: Phone; device: MappedDevice }[] = [];
    for (const phone of job.serverPhones ?? []) {
      if (phone.status === PhoneStatus.Frozen) continue;
      const device = await this.deviceOf(phone);
      if (!('ok' in device)) mapped.push({ phone, device });
    }
    await ctx.transition({
      servers: [{ serverId: server.serverId, status: ServerStatus.Starting }],
      phones: mapped.map(({ phone }) => ({ phoneId: phone.phoneId, status: PhoneStatus.Restarting })),
    });
    const results = await Promise.all(
      mapped.map(({ phone, device }) =>
        this.onDevice(device, ctx, { phones: [{ phoneId: phone.phoneId, status: PhoneStatus.RestartFailed }] }, async () => {
          await rebootAndWait(this.o.servers, device.adb_server, device.serial, ctx.signal);
          return { ok: true, effects: { phones: [{ phoneId: phone.phoneId, status: PhoneStatus.Running }] } };
        }),
      ),
    );
    const phones = results.flatMap((r) => r.effects?.phones ?? []);
    const failed = results.map((r, i) => ({ r, serial: mapped[i]!.device.serial })).filter(({ r }) => !r.ok);
    if (failed.length === 0) return { ok: true, effects: { servers: [{ serverId: server.serverId, status: ServerStatus.Normal }], phones } };
    const first = failed[0]!.r;
    return {
      ok: false,
      errorCode: first.errorCode,
      errorMsg: failed.map(({ r }) => r.errorMsg).join(' '),
      effects: { servers: [{ serverId: server.serverId, status: ServerStatus.Abnormal }], phones },
    };
  }
}

/**
 * `work`, or the signal's reason shortly after it aborts: an adb server or device that does not
 * answer (a stream it is slow to open) must not hold a job past its time limit. The moment between
 * lets a command that was running settle with its output so far.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  let onAbort = () => undefined as void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => void setTimeout(() => reject(signal.reason), 200);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  work.catch(() => undefined);
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}
