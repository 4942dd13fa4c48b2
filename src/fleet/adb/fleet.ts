import type { Logger } from 'pino';
import type { Clock } from '../../domain/time.js';
import type { DeviceMap } from './deviceMap.js';
import type { Driver } from '../driver.js';
import { AdbDriver } from './driver.js';
import { AdbServers } from './servers.js';
import { DeviceWatcher } from './watcher.js';

export interface AdbFleet {
  driver: AdbDriver;
  /** Set on a node that runs jobs: phone health follows its devices. */
  watcher?: DeviceWatcher;
  stop(): Promise<void>;
}

/** The adb fleet of a node: its driver, and on a node that runs jobs, the device watcher. */
export function startAdbFleet(o: { devices: DeviceMap; adbServers: readonly string[]; obsDir: string; records: Driver; clock: Clock; log: Logger; watch: boolean }): AdbFleet {
  const servers = new AdbServers();
  const driver = new AdbDriver({ devices: o.devices, adbServers: o.adbServers, servers, obsDir: o.obsDir, records: o.records });
  const watcher = o.watch ? new DeviceWatcher({ devices: o.devices, servers, adbServers: o.adbServers, clock: o.clock, log: o.log }) : undefined;
  watcher?.start();
  return { driver, watcher, stop: async () => watcher?.stop() };
}
