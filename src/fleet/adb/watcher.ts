import type { Client, Device } from '@devicefarmer/adbkit';
import type { Logger } from 'pino';
import type { Clock } from '../../domain/time.js';
import { PhoneStatus } from '../../domain/status.js';
import type { DeviceMap } from './deviceMap.js';
import { isOnline } from './reboot.js';
import type { AdbServers } from './servers.js';

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

/**
 * Phone health follows the devices, without a job: a running phone whose device goes away from its
 * adb server (or is listed offline or unauthorized) turns abnormal (-7), and an abnormal one whose
 * device is back turns running (2). Phones in other states are left alone: a restart or reset
 * under way owns its phone, and a stopped phone stays stopped. Each adb server's device list is
 * tracked (`host:track-devices`), and looked at in full every `everyMs`, which also picks up devices
 * mapped since the start; a server that does not answer counts as listing no device.
 */
export class DeviceWatcher {
  private readonly trackers = new Map<string, Tracker>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private looking: Promise<void> = Promise.resolve();

  constructor(private readonly o: WatcherOptions) {}

  start(): void {
    for (const adbServer of this.o.adbServers) void this.track(adbServer);
    this.look();
    this.timer = setInterval(() => this.look(), this.o.everyMs ?? 5000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const t of this.trackers.values()) t.end();
    this.trackers.clear();
    await this.looking;
  }

  /** Look at every device now (also what the timer does). */
  look(): Promise<void> {
    this.looking = this.looking.then(() => this.lookAll()).catch((err) => this.o.log.warn({ err }, 'looking at the adb devices failed'));
    return this.looking;
  }

  private async track(adbServer: string): Promise<void> {
    if (this.stopped) return;
    try {
      const tracker = await this.o.servers.client(adbServer).trackDevices();
      if (this.stopped) return void tracker.end();
      this.trackers.set(adbServer, tracker);
      const seen = (d: Device) => void this.settle(adbServer, d.id, isOnline(d.type));
      tracker.on('add', seen);
      tracker.on('change', seen);
      tracker.on('remove', (d: Device) => void this.settle(adbServer, d.id, false));
      tracker.on('error', () => undefined);
      tracker.once('end', () => {
        this.trackers.delete(adbServer);
        if (this.stopped) return;
        this.o.log.warn({ adbServer }, 'lost the adb server; tracking it again at the next look');
        void this.look();
      });
    } catch (err) {
      this.o.log.warn({ adbServer, err: (err as Error).message }, 'the adb server does not answer; its devices count as away');
    }
  }

  private async lookAll(): Promise<void> {
    if (this.stopped) return;
    const mapped = (await this.o.devices.withStatus()).filter((d) => this.o.adbServers.includes(d.adb_server));
    for (const adbServer of this.o.adbServers) {
      if (!this.trackers.has(adbServer)) await this.track(adbServer);
      const listed = await this.o.servers
        .client(adbServer)
        .listDevices()
        .then((l: Device[]) => new Map<string, string>(l.map((d) => [d.id, d.type])), () => new Map<string, string>());
      for (const d of mapped.filter((m) => m.adb_server === adbServer)) {
        const online = isOnline(listed.get(d.serial));
        if (!online) await this.o.servers.reconnect(adbServer, d.serial);
        await this.settle(adbServer, d.serial, online);
      }
    }
  }

  /** Move the device's phone between running and abnormal as its device comes and goes. */
  private async settle(adbServer: string, serial: string, online: boolean): Promise<void> {
    if (this.stopped) return;
    try {
      const phones = (await this.o.devices.withStatus()).filter((d) => d.adb_server === adbServer && d.serial === serial);
      for (const p of phones) {
        const [from, to] = online ? [PhoneStatus.Abnormal, PhoneStatus.Running] : [PhoneStatus.Running, PhoneStatus.Abnormal];
        if (p.status !== from) continue;
        if (await this.o.devices.moveStatus(p.phone_id, [from], to, this.o.clock.now())) {
          this.o.log.info({ phoneId: p.phone_id, serial, adbServer, status: to }, online ? 'device is back: phone running' : 'device is away: phone abnormal');
        }
      }
    } catch (err) {
      this.o.log.warn({ err, serial }, 'could not record a device change');
    }
  }
}
