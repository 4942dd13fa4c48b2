import type { Device } from '@devicefarmer/adbkit';
import type { Duplex } from 'node:stream';
import { systemClock } from '../../domain/time.js';
import { ANSWER_MS, STALE_MS, within, type AdbServers } from './servers.js';

/** A device state that takes commands. */
export const isOnline = (type: string | undefined) => type === 'device' || type === 'emulator';

/** How often a reboot's wait looks at the device again. */
const LOOK_MS = 250;

/** Real time: adb and the device do not follow a virtual clock. */
const pause = (ms: number, signal: AbortSignal) => systemClock.sleep(ms, signal);

/**
 * Reboot the device and wait until it is back: gone from its adb server (or offline), listed again
 * as a device, and `sys.boot_completed` is 1. Its server's device list is tracked from before the
 * reboot, so a device that is back before a look would find it gone still counts as rebooted. A TCP
 * device is `adb connect`ed again while it is away. Rejects with the signal's reason when it aborts.
 */
export async function rebootAndWait(servers: AdbServers, adbServer: string, serial: string, signal: AbortSignal): Promise<void> {
  const client = servers.client(adbServer);
  const tracker = await client.trackDevices();
  let wentAway = false;
  const away = (d: Device) => {
    if (d.id === serial && !isOnline(d.type)) wentAway = true;
  };
  tracker.on('remove', (d: Device) => d.id === serial && (wentAway = true));
  tracker.on('change', away);
  tracker.on('error', () => undefined);
  try {
    // The reboot's connection may close before it answers: the device going away is what counts.
    await client
      .getDevice(serial)
      .reboot()
      .catch(() => undefined);
    while (!wentAway) {
      const state = await servers.state(adbServer, serial).catch(() => undefined);
      if (!isOnline(state)) wentAway = true;
      else await pause(LOOK_MS, signal);
    }
    // Since when the device has been listed offline (real time: a virtual clock may stand still).
    let offlineSince: number | undefined;
    for (;;) {
      const state = await servers.state(adbServer, serial).catch(() => undefined);
      if (isOnline(state) && (await bootCompleted(servers, adbServer, serial))) return;
      offlineSince = state === 'offline' ? (offlineSince ?? performance.now()) : undefined;
      // Not listed: connect. Listed offline for STALE_MS: the device is the one that rebooted, and
      // adb would connect again only ~10 s later, so it is disconnected and connected; a connection
      // still shaking hands is left its STALE_MS.
      const stale = offlineSince !== undefined && performance.now() - offlineSince >= STALE_MS;
      if (state === undefined || stale) {
        await servers.reconnect(adbServer, serial, stale);
        offlineSince = undefined;
      }
      await pause(LOOK_MS, signal);
    }
  } finally {
    tracker.end();
  }
}

/** The device has finished booting (`sys.boot_completed` is 1); false when it does not say so in time. */
export async function bootCompleted(servers: AdbServers, adbServer: string, serial: string): Promise<boolean> {
  let stream: Duplex | undefined;
  let late = false;
  const read = async () => {
    const opened = (stream = await servers.client(adbServer).getDevice(serial).shell('getprop sys.boot_completed'));
    if (late) opened.destroy();
    const chunks: Buffer[] = [];
    for await (const c of opened) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8').trim() === '1';
  };
  // A device that does not answer in time: its shell's connection is closed, not left open.
  return within(read(), ANSWER_MS, () => {
    late = true;
    stream?.destroy();
  }).catch(() => false);
}
