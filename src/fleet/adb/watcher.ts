import type { Client, Device } from '@devicefarmer/adbkit';
import type { Logger } from 'pino';
import type { Clock } from '../../domain/time.js';
import { PhoneStatus } from '../../domain/status.js';
import type { DeviceMap } from './deviceMap.js';
import { bootCompleted, isOnline } from './reboot.js';
import { AdbServerDown, ANSWER_MS, parseAdbServer, STALE_MS, tcpTarget, within, type AdbServers } from './servers.js';

type Tracker = Awaited<ReturnType<Client['trackDevices']>>;

export interface WatcherOptions {
  /** The declared fleet: its devices, and their phones' statuses. */
  devices: DeviceMap;
  servers: AdbServers;
  adbServers: readonly string[];
  clock: Pick<Clock, 'now'>;
  log: Logger;
  /** How often every device is looked at again (and TCP devices that are away `adb connect`ed), in ms. */
  everyMs?: number;
}

/** How soon a device that is back but still booting is looked at again. */
const BOOTING_MS = 1000;
/**
 * How often each adb server's device list is read and compared with the one before: adb 1.0.41's
 * `track-devices` does not report a TCP device that went offline (a reboot, a dropped network),
 * only its removal and its return.
 */
const POLL_MS = 1000;

/**
 * Phone health follows the devices, without a job: a running phone whose device goes away from its
 * adb server (or is listed offline or unauthorized) turns abnormal (-7), and an abnormal one whose
 * device is back and has booted (`sys.boot_completed`) turns running (2). Phones in other states
 * are left alone: a restart or reset under way owns its phone, and a stopped phone stays stopped.
 *
 * Each adb server's device list is tracked (`host:track-devices`), read every POLL_MS for what the
 * tracking does not report, and looked at in full every `everyMs`, which also picks up devices
 * mapped since the start. TCP devices that are away are
 * `adb connect`ed again, disconnected first once listed offline for STALE_MS (a reboot adb has not
 * noticed the end of), a look following soon after a device left. Events and looks are handled one
 * at a time, in order, so a late look never undoes a newer event. A server that does not answer
 * counts as listing no device; it is said once in the log, and again when it answers.
 */
export class DeviceWatcher {
  private readonly trackers = new Map<string, Tracker>();
  private timer: NodeJS.Timeout | undefined;
  private poller: NodeJS.Timeout | undefined;
  private polling = false;
  /** Each answering adb server's device list as last read, serial → state. */
  private readonly listed = new Map<string, Map<string, string>>();
  private soon: NodeJS.Timeout | undefined;
  private stopped = false;
  private queue: Promise<void> = Promise.resolve();
  /** adb servers that did not answer at their last try, with why. */
  private readonly down = new Map<string, string>();
  /** When each device (`adbServer serial`) was first seen offline, while it stays so. */
  private readonly offlineSince = new Map<string, number>();

  constructor(private readonly o: WatcherOptions) {}

  start(): void {
    void this.look();
    this.timer = setInterval(() => void this.look(), this.o.everyMs ?? 5000);
    this.timer.unref();
    this.poller = setInterval(() => {
      if (this.polling) return;
      this.polling = true;
      void this.enqueue(() => this.poll()).finally(() => (this.polling = false));
    }, POLL_MS);
    this.poller.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.poller);
    clearTimeout(this.soon);
    for (const t of this.trackers.values()) t.end();
    this.trackers.clear();
    await this.queue;
  }

  /** Look at every device now (also what the timer does). */
  look(): Promise<void> {
    return this.enqueue(() => this.lookAll());
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(() => (this.stopped ? undefined : work())).catch((err) => this.o.log.warn({ err }, 'looking at the adb devices failed'));
    return this.queue;
  }

  /** One look within `ms`, unless one is already due. */
  private lookIn(ms: number): void {
    if (this.soon || this.stopped) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.look();
    }, ms);
    this.soon.unref();
  }

  private async track(adbServer: string): Promise<void> {
    let tracker: Tracker;
    const asked = this.o.servers.client(adbServer).trackDevices();
    try {
      tracker = await within(asked, ANSWER_MS);
    } catch (err) {
      // One that comes after all is not kept.
      asked.then((late: Tracker) => late.end(), () => undefined);
      this.serverDown(adbServer, (err as Error).message);
      return;
    }
    if (this.stopped) return void tracker.end();
    this.trackers.set(adbServer, tracker);
    const seen = (d: Device) => void this.enqueue(() => this.seen(adbServer, d.id));
    tracker.on('add', seen);
    tracker.on('change', seen);
    tracker.on('remove', seen);
    tracker.on('error', () => undefined);
    tracker.once('end', () => {
      this.trackers.delete(adbServer);
      if (this.stopped) return;
      this.o.log.warn({ adbServer }, "lost the adb server's device list; looking at it again");
      void this.look();
    });
  }

  /** The device lists that changed since the last read: each device whose state changed is seen to. */
  private async poll(): Promise<void> {
    for (const adbServer of this.o.adbServers) {
      const before = this.listed.get(adbServer);
      if (!before) continue;
      const now = await this.o.servers.devices(adbServer).catch(() => undefined);
      // Gone quiet: the look says so and counts its devices as away; the other servers are read on.
      if (!now) {
        this.lookIn(0);
        continue;
      }
      for (const serial of new Set([...before.keys(), ...now.keys()])) if (before.get(serial) !== now.get(serial)) await this.seen(adbServer, serial);
    }
  }

  /**
   * A change of the device, tracked or polled. Its state is read again: a change queued behind a
   * look (which may have connected the device again since) must not undo what the look found.
   */
  private async seen(adbServer: string, serial: string): Promise<void> {
    let state: string | undefined;
    try {
      const listed = await this.o.servers.devices(adbServer);
      this.listed.set(adbServer, listed);
      state = listed.get(serial);
    } catch {
      state = undefined;
    }
    this.note(adbServer, serial, state);
    // A TCP device that left is connected again soon, not at the next regular look.
    if (!isOnline(state) && tcpTarget(serial)) this.lookIn(state === 'offline' ? STALE_MS + 100 : 200);
    await this.settle(adbServer, serial, isOnline(state));
  }

  /** Keep when a device went offline; true once it has been offline for STALE_MS. */
  private note(adbServer: string, serial: string, state: string | undefined): boolean {
    const key = `${adbServer} ${serial}`;
    if (state !== 'offline') {
      this.offlineSince.delete(key);
      return false;
    }
    // adb and the devices keep real time, whatever the node's clock (a virtual one stands still).
    const now = Date.now();
    const since = this.offlineSince.get(key) ?? now;
    this.offlineSince.set(key, since);
    return now - since >= STALE_MS;
  }

  private async lookAll(): Promise<void> {
    const mapped = (await this.o.devices.withStatus()).filter((d) => this.o.adbServers.includes(d.adb_server));
    for (const adbServer of this.o.adbServers) {
      let listed: Map<string, string>;
      try {
        listed = await this.o.servers.devices(adbServer);
        this.listed.set(adbServer, listed);
        this.serverUp(adbServer);
      } catch (err) {
        this.serverDown(adbServer, err instanceof AdbServerDown ? err.why : (err as Error).message);
        this.listed.delete(adbServer);
        listed = new Map();
      }
      const up = !this.down.has(adbServer);
      if (up && !this.trackers.has(adbServer)) await this.track(adbServer);
      const here = mapped.filter((m) => m.adb_server === adbServer);
      const stale = new Map(here.map((d) => [d.serial, this.note(adbServer, d.serial, listed.get(d.serial))]));
      if (up) {
        const away = here.filter((d) => !isOnline(listed.get(d.serial)) && tcpTarget(d.serial));
        // At once: a connect to a host that is down waits for its time-out, and would hold every other.
        const again = away.filter((d) => listed.get(d.serial) === undefined || stale.get(d.serial));
        if (again.length) {
          await Promise.all(again.map((d) => this.o.servers.reconnect(adbServer, d.serial, stale.get(d.serial))));
          listed = await this.o.servers.devices(adbServer).catch(() => listed);
          this.listed.set(adbServer, listed);
          // A new connection gets its own STALE_MS to finish its handshake.
          for (const d of again) {
            this.note(adbServer, d.serial, undefined);
            this.note(adbServer, d.serial, listed.get(d.serial));
          }
        }
        if (away.some((d) => listed.get(d.serial) === 'offline')) this.lookIn(STALE_MS + 100);
      }
      for (const d of here) await this.settle(adbServer, d.serial, isOnline(listed.get(d.serial)));
    }
  }

  private serverDown(adbServer: string, why: string): void {
    if (this.down.get(adbServer) === why) return;
    this.down.set(adbServer, why);
    const port = parseAdbServer(adbServer)?.port;
    this.o.log.warn(
      { adbServer, reason: why },
      `the adb server ${adbServer} does not answer (${why}): its devices count as away, their phones turn abnormal and their jobs fail with CPS.0990 until it does. ` +
        `OpenCPH does not start adb servers: start it on that host (adb -P ${port} start-server).`,
    );
  }

  private serverUp(adbServer: string): void {
    if (!this.down.delete(adbServer)) return;
    this.o.log.info({ adbServer }, `the adb server ${adbServer} answers again`);
  }

  /** Move the device's phone between running and abnormal as its device comes and goes (and, coming back, has booted). */
  private async settle(adbServer: string, serial: string, online: boolean): Promise<void> {
    if (this.stopped) return;
    try {
      const phones = (await this.o.devices.withStatus()).filter((d) => d.adb_server === adbServer && d.serial === serial);
      for (const p of phones) {
        const [from, to] = online ? [PhoneStatus.Abnormal, PhoneStatus.Running] : [PhoneStatus.Running, PhoneStatus.Abnormal];
        if (p.status !== from) continue;
        if (online && !(await bootCompleted(this.o.servers, adbServer, serial))) {
          this.lookIn(BOOTING_MS);
          continue;
        }
        if (await this.o.devices.moveStatus(p.phone_id, [from], to, this.o.clock.now())) {
          this.o.log.info({ phoneId: p.phone_id, serial, adbServer, status: to }, online ? 'device is back: phone running' : 'device is away: phone abnormal');
        }
      }
    } catch (err) {
      this.o.log.warn({ err, serial }, 'could not record a device change');
    }
  }
}
