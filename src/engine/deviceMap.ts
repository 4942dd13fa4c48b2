import type { DeviceMap } from '../fleet/adb/deviceMap.js';
import type { Db } from '../store/db.js';
import { deviceOfPhone, devicesWithStatus, movePhoneStatus } from '../store/devices.js';

/** The adb fleet's device map over the store's `devices` table (migration 021). */
export function deviceMap(db: Db): DeviceMap {
  return {
    deviceOf: (phoneId) => deviceOfPhone(db, phoneId),
    withStatus: () => devicesWithStatus(db),
    moveStatus: (phoneId, from, to, now) => movePhoneStatus(db, phoneId, from, to, now),
  };
}
