import type { Phone } from '../../domain/fleet.js';
import { systemClock, type Clock } from '../../domain/time.js';
import type { AndroidState } from '../sim/state.js';
import { VirtualDevice } from './device.js';

/**
 * Simulated phones exposed as adb devices, one TCP port each: `adb connect 127.0.0.1:PORT` and the
 * phone answers `adb shell`, `push`, `pull`, `install`, `reboot` from the same state the simulated
 * fleet's jobs use (docs/decisions/0025-virtual-adb-devices.md).
 */

export interface VirtualDevicesOptions {
  state: AndroidState;
  phones: readonly Phone[];
  /** Reads a phone again when a stream opens, so property updates show; by default the phones given. */
  lookup?: (phoneId: string) => Promise<Phone | undefined>;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default 127.0.0.1. */
  host?: string;
  /** The first device's port, the next ones following; 0 (the default): any free port for each. */
  basePort?: number;
  /** How long `adb reboot` keeps a device offline; default 1000 ms. */
  rebootMs?: number;
  /** How long after coming back `sys.boot_completed` stays unset; default 500 ms. */
  bootMs?: number;
  onError?: (err: Error) => void;
}

export interface DeviceInfo {
  phoneId: string;
  port: number;
  /** What `adb connect` takes and `adb devices` shows: `127.0.0.1:PORT`. */
  serial: string;
}

export interface VirtualDevices {
  devices: DeviceInfo[];
  /** Close every port and connection. */
  stop(): Promise<void>;
  /** The device drops its connections and refuses new ones (its port is closed): a device gone offline. */
  kill(phoneId: string): Promise<void>;
  /** A killed device listens again on its port (adb reconnects to it, or `adb connect` again). */
  revive(phoneId: string): Promise<void>;
  /** Every stream the device is asked to open is answered only after `ms` (0: at once again). */
  slow(phoneId: string, ms: number): void;
  /** What `adb reboot` does: offline for rebootMs, then back; resolves once it listens again. */
  reboot(phoneId: string): Promise<void>;
}

export async function startVirtualDevices(o: VirtualDevicesOptions): Promise<VirtualDevices> {
  const host = o.host ?? '127.0.0.1';
  const base = o.basePort ?? 0;
  const devices = o.phones.map(
    (phone, i) =>
      new VirtualDevice({
        state: o.state,
        phone,
        lookup: o.lookup,
        clock: o.clock ?? systemClock,
        host,
        port: base === 0 ? 0 : base + i,
        rebootMs: o.rebootMs ?? 1000,
        bootMs: o.bootMs ?? 500,
        onError: o.onError,
      }),
  );
  try {
    for (const d of devices) await d.listen();
  } catch (err) {
    await Promise.all(devices.map((d) => d.stop()));
    throw err;
  }
  const byId = (phoneId: string) => {
    const d = devices.find((x) => x.phoneId === phoneId);
    if (!d) throw new Error(`no virtual device for phone ${phoneId}`);
    return d;
  };
  return {
    devices: devices.map((d) => ({ phoneId: d.phoneId, port: d.port, serial: d.serial })),
    stop: async () => {
      await Promise.all(devices.map((d) => d.stop()));
    },
    kill: (phoneId) => byId(phoneId).goOffline(),
    revive: (phoneId) => byId(phoneId).listen(),
    slow: (phoneId, ms) => byId(phoneId).slow(ms),
    reboot: (phoneId) => byId(phoneId).reboot(),
  };
}
