import { posix } from 'node:path';
import type { AndroidState, StoredFile, StoredPackage } from '../fleet/sim/state.js';
import * as android from '../store/android.js';
import type { Db } from '../store/db.js';
import { getImage } from '../store/fleet.js';
import { imageOf } from './fleetView.js';

const packageOf = (r: android.PackageRow): StoredPackage => ({
  packageName: r.package_name,
  versionCode: r.version_code,
  versionName: r.version_name,
  apkPath: r.apk_path,
  splits: r.splits ? r.splits.split(' ') : [],
  installedAt: r.installed_at,
});

const fileOf = (r: android.FileRow): StoredFile => ({ path: r.path, kind: r.kind, mode: r.mode, size: r.size, mtime: r.mtime, content: r.content });

/** The simulated phones' state, kept in the node's database (tables android_*). */
export function androidState(db: Db): AndroidState {
  return {
    image: async (imageId) => {
      const row = await getImage(db, imageId);
      return row && imageOf(row);
    },
    packages: async (phoneId) => (await android.listPackages(db, phoneId)).map(packageOf),
    package: async (phoneId, name) => {
      const row = await android.getPackage(db, phoneId, name);
      return row && packageOf(row);
    },
    putPackage: (phoneId, p) =>
      android.putPackage(db, {
        phone_id: phoneId,
        package_name: p.packageName,
        version_code: p.versionCode,
        version_name: p.versionName,
        apk_path: p.apkPath,
        splits: p.splits.join(' '),
        installed_at: p.installedAt,
      }),
    deletePackage: (phoneId, name) => android.deletePackage(db, phoneId, name),
    file: async (phoneId, path) => {
      const row = await android.getFile(db, phoneId, path);
      return row && fileOf(row);
    },
    children: async (phoneId, dir) => (await android.listChildren(db, phoneId, dir)).map(fileOf),
    // `parent` makes a listing one indexed lookup.
    putFiles: (phoneId, files) => android.putFiles(db, files.map((f) => ({ ...f, phone_id: phoneId, parent: posix.dirname(f.path) }))),
    setting: (phoneId, namespace, name) => android.getSetting(db, phoneId, namespace, name),
    settings: async (phoneId, namespace) => (await android.listSettings(db, phoneId, namespace)).map((r): [string, string] => [r.name, r.value]),
    putSetting: (phoneId, namespace, name, value) => android.putSetting(db, { phone_id: phoneId, namespace, name, value }),
    deleteSetting: (phoneId, namespace, name) => android.deleteSetting(db, phoneId, namespace, name),
    wipe: (phoneId, roots) => android.wipeUserState(db, phoneId, roots),
  };
}
