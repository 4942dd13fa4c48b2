import type { Image } from '../../domain/fleet.js';

/** A package the user installed on a simulated phone (system packages come from its image). */
export interface StoredPackage {
  packageName: string;
  versionCode: number;
  versionName: string;
  apkPath: string;
  /** Split names of an install-multiple; empty for a single APK. */
  splits: string[];
  installedAt: number;
}

/** A file or directory written on a simulated phone (by push); the image's own tree is not stored. */
export interface StoredFile {
  /** Absolute, normalized: `/data/local/tmp/a.txt`. */
  path: string;
  kind: 'file' | 'dir';
  mode: number;
  size: number;
  mtime: number;
  /** The first bytes of a file; null for directories. */
  content: Buffer | null;
}

/** An app shared with every phone of a server (PushShareApps). */
export interface SharedApp {
  packageName: string;
  versionCode: number;
  versionName: string;
  apkPath: string;
  /** PushShareApps' pre_install_app = 1. */
  preInstall: boolean;
  installedAt: number;
}

/**
 * Where simulated phones keep what happened to them since their image (user packages, pushed files,
 * settings), so it outlives the process; a node keeps it in its database.
 */
export interface AndroidState {
  image(imageId: string): Promise<Image | undefined>;
  packages(phoneId: string): Promise<StoredPackage[]>;
  package(phoneId: string, packageName: string): Promise<StoredPackage | undefined>;
  /** Install or update: the same package name replaces the old one. */
  putPackage(phoneId: string, pkg: StoredPackage): Promise<void>;
  deletePackage(phoneId: string, packageName: string): Promise<boolean>;
  file(phoneId: string, path: string): Promise<StoredFile | undefined>;
  /** The stored entries directly under `dir`, by path. */
  children(phoneId: string, dir: string): Promise<StoredFile[]>;
  /** Write files and directories; an existing path is replaced. */
  putFiles(phoneId: string, files: readonly StoredFile[]): Promise<void>;
  /** Delete what the phone wrote at `path` and under it; answers how many entries went. */
  deleteTree(phoneId: string, path: string): Promise<number>;
  /** Every file and directory written on the phone, by path (not its image's, not shared ones). */
  files(phoneId: string): Promise<StoredFile[]>;
  setting(phoneId: string, namespace: string, name: string): Promise<string | undefined>;
  settings(phoneId: string, namespace: string): Promise<[string, string][]>;
  putSetting(phoneId: string, namespace: string, name: string, value: string): Promise<void>;
  deleteSetting(phoneId: string, namespace: string, name: string): Promise<number>;
  /** A factory reset: user packages, settings and every file under the given roots are gone. */
  wipe(phoneId: string, roots: readonly string[]): Promise<void>;
  // A server's shared storage (spec 2.0 models): seen by every phone of the server.
  sharedFile(serverId: string, path: string): Promise<StoredFile | undefined>;
  /** The shared entries directly under `dir`, by path; a page of them when `page` is given. */
  sharedChildren(serverId: string, dir: string, page?: { offset: number; limit: number }): Promise<StoredFile[]>;
  countSharedChildren(serverId: string, dir: string): Promise<number>;
  putSharedFiles(serverId: string, files: readonly StoredFile[]): Promise<void>;
  /** Remove a shared path and all below it; how many entries went. */
  deleteSharedTree(serverId: string, path: string): Promise<number>;
  sharedApps(serverId: string): Promise<SharedApp[]>;
  sharedApp(serverId: string, packageName: string): Promise<SharedApp | undefined>;
  /** Share an app; the same package name replaces the shared version. */
  putSharedApp(serverId: string, app: SharedApp): Promise<void>;
  deleteSharedApp(serverId: string, packageName: string): Promise<boolean>;
}
