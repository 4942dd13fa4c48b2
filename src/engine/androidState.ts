import { posix } from 'node:path';
import type { AndroidState, SharedApp, StoredFile, StoredPackage } from '../fleet/sim/state.js';
import * as android from '../store/android.js';
import type { Db } from '../store/db.js';
import { getImage } from '../store/fleet.js';
import * as shared from '../store/shared.js';
import { imageOf } from './fleetView.js';

const packageOf = (r: android.PackageRow): StoredPackage => ({
  packageName: r.package_name,
  versionCode: r.version_code,
  versionName: r.version_name,
  apkPath: r.apk_path,
  splits: r.splits ? r.splits.split(' ') : [],
  installedAt: r.installed_at,
});

const fileOf = (r: android.FileRow | shared.SharedFileRow): StoredFile => ({ path: r.path, kind: r.kind, mode: r.mode, size: r.size, mtime: r.mtime, content: r.content });

const sharedAppOf = (r: shared.SharedAppRow): SharedApp => ({
  packageName: r.package_name,
  versionCode: r.version_code,
  versionName: r.version_name,
  apkPath: r.apk_path,
  preInstall: r.pre_install === 1,
  installedAt: r.installed_at,
});

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
    deleteTree: (phoneId, path) => android.deleteFileTree(db, 'android_files', 'phone_id', phoneId, path),
    files: async (phoneId) => (await android.listFiles(db, phoneId)).map(fileOf),
    sharedFile: async (serverId, path) => {
      const row = await shared.getSharedFile(db, serverId, path);
      return row && fileOf(row);
    },
    sharedChildren: async (serverId, dir, page) => (await shared.listSharedChildren(db, serverId, dir, page)).map(fileOf),
    countSharedChildren: (serverId, dir) => shared.countSharedChildren(db, serverId, dir),
    putSharedFiles: (serverId, files) => shared.putSharedFiles(db, files.map((f) => ({ ...f, server_id: serverId, parent: posix.dirname(f.path) }))),
    deleteSharedTree: (serverId, path) => android.deleteFileTree(db, 'shared_files', 'server_id', serverId, path),
    sharedApps: async (serverId) => (await shared.listSharedApps(db, serverId)).map(sharedAppOf),
    sharedApp: async (serverId, name) => {
      const row = await shared.getSharedApp(db, serverId, name);
      return row && sharedAppOf(row);
    },
    putSharedApp: (serverId, a) =>
      shared.putSharedApp(db, {
        server_id: serverId,
        package_name: a.packageName,
        version_code: a.versionCode,
        version_name: a.versionName,
        apk_path: a.apkPath,
        pre_install: a.preInstall ? 1 : 0,
        installed_at: a.installedAt,
      }),
    deleteSharedApp: (serverId, name) => shared.deleteSharedApp(db, serverId, name),
  };
}
