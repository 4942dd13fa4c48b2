import type { Logger } from 'pino';
import type { Clock } from '../../domain/time.js';
import type { DeviceMap } from './deviceMap.js';
import type { Driver } from '../driver.js';
import { AdbDriver } from './driver.js';
import { AdbServers } from './servers.js';
import { DeviceWatcher } from './watcher.js';

export interface AdbFleet {
  driver: AdbDriver;
  /** Stops the device watcher, by which phone health follows the devices. */
  stop(): Promise<void>;
}

/** The adb fleet of a node that runs jobs: its driver and its device watcher. */
export function startAdbFleet(o: { devices: DeviceMap; adbServers: readonly string[]; obsDir: string; records: Driver; clock: Clock; log: Logger }): AdbFleet {
  const servers = new AdbServers();
  const driver = new AdbDriver({ devices: o.devices, adbServers: o.adbServers, servers, obsDir: o.obsDir, records: o.records });
  const watcher = new DeviceWatcher({ devices: o.devices, servers, adbServers: o.adbServers, clock: o.clock, log: o.log });
  watcher.start();
  return { driver, stop: async () => watcher.stop() };
}
