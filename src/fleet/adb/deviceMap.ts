/**
 * Which device is which phone, as the adb fleet sees it: the driver and the health watcher read the
 * declared mapping and move phone statuses through this, not through the store (the engine gives
 * the implementation: engine/deviceMap.ts), as the simulated fleet reads its phones through
 * AndroidState.
 */

/** A phone's device: its serial on an adb server. */
export interface MappedDevice {
  phone_id: string;
  serial: string;
  /** `host:port` of the adb server the device is on. */
  adb_server: string;
}

export interface DeviceMap {
  /** The device mapped to a phone, if any. */
  deviceOf(phoneId: string): Promise<MappedDevice | undefined>;
  /** Every mapped device with its phone's status. */
  withStatus(): Promise<(MappedDevice & { status: number })[]>;
  /** Move a phone from one of `from` to `to` (false when its status was none of them). */
  moveStatus(phoneId: string, from: readonly number[], to: number, now: number): Promise<boolean>;
}
