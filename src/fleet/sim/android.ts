import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { parseProperty, type Properties } from '../../domain/property.js';
import type { Clock } from '../../domain/time.js';
import type { Image, Phone } from '../../domain/fleet.js';
import type { AndroidState, SharedApp, StoredFile, StoredPackage } from './state.js';
import type { TarEntry } from '../tarball.js';

/**
 * A simulated Android phone: what its image gives it (system properties, system packages, a file
 * tree), overlaid with what happened to it since, kept in the database (user packages, pushed files,
 * settings; custom properties live in `phones.property`). A factory reset drops all of the latter.
 * On a server with shared storage, the server's shared files and apps show on every phone beneath
 * the phone's own (a file or app the phone has itself hides the shared one).
 */

export interface DisplaySpec {
  width: number;
  height: number;
  density: number;
}

interface ModelSpec {
  brand: string;
  manufacturer: string;
  model: string;
  device: string;
  display: DisplaySpec;
}

/** Phone models of the simulated fleet; an unknown model gets the first one's looks. */
const MODELS: Record<string, ModelSpec> = {
  'rx1.cp.c15.d46.e1v1': {
    brand: 'HUAWEI',
    manufacturer: 'HUAWEI',
    model: 'CPH-RX1',
    device: 'cph_rx1',
    display: { width: 720, height: 1280, density: 320 },
  },
};
const DEFAULT_MODEL = MODELS['rx1.cp.c15.d46.e1v1']!;

interface AndroidSpec {
  release: string;
  sdk: number;
  buildId: string;
  kernel: string;
  securityPatch: string;
}

const ANDROID: Record<string, AndroidSpec> = {
  '10': { release: '10', sdk: 29, buildId: 'QQ3A.200805.001', kernel: '4.19.113', securityPatch: '2020-08-05' },
  '11': { release: '11', sdk: 30, buildId: 'RQ3A.211001.001', kernel: '5.4.86', securityPatch: '2021-10-01' },
  '12': { release: '12', sdk: 31, buildId: 'SQ3A.220705.004', kernel: '5.10.66', securityPatch: '2022-07-05' },
  '13': { release: '13', sdk: 33, buildId: 'TQ3A.230901.001', kernel: '5.15.41', securityPatch: '2023-09-01' },
  '14': { release: '14', sdk: 34, buildId: 'UQ1A.240205.004', kernel: '6.1.25', securityPatch: '2024-02-05' },
};

/** The Android release an image carries, from its OS name ("Android 12"); 11 when it does not say. */
function androidOf(image: Image | undefined): AndroidSpec {
  const release = /Android\s*(\d+)/i.exec(`${image?.osName ?? ''} ${image?.imageName ?? ''}`)?.[1];
  return (release && ANDROID[release]) || ANDROID['11']!;
}

/** Packages every image ships, with where their APK lives. */
const SYSTEM_PACKAGES: readonly (readonly [string, string])[] = [
  ['android', '/system/framework/framework-res.apk'],
  ['com.android.documentsui', '/system/priv-app/DocumentsUI/DocumentsUI.apk'],
  ['com.android.inputmethod.latin', '/system/app/LatinIME/LatinIME.apk'],
  ['com.android.launcher3', '/system/priv-app/Launcher3/Launcher3.apk'],
  ['com.android.packageinstaller', '/system/priv-app/PackageInstaller/PackageInstaller.apk'],
  ['com.android.phone', '/system/priv-app/TeleService/TeleService.apk'],
  ['com.android.providers.media', '/system/priv-app/MediaProvider/MediaProvider.apk'],
  ['com.android.providers.settings', '/system/priv-app/SettingsProvider/SettingsProvider.apk'],
  ['com.android.settings', '/system/priv-app/Settings/Settings.apk'],
  ['com.android.shell', '/system/priv-app/Shell/Shell.apk'],
  ['com.android.systemui', '/system/priv-app/SystemUI/SystemUI.apk'],
  ['com.android.webview', '/system/app/webview/webview.apk'],
];

/** Where a factory reset wipes: the data partition (the user's storage lives on it). */
export const USER_DATA_ROOTS = ['/data', '/sdcard'] as const;

export interface InstalledPackage {
  name: string;
  system: boolean;
  apkPath: string;
  versionCode: number;
  versionName: string;
  /** The split APKs installed beside the base one (`install-multiple`), by split name. */
  splits: string[];
}

export interface FileNode {
  path: string;
  kind: 'file' | 'dir';
  mode: number;
  size: number;
  mtime: number;
  owner: string;
  group: string;
  content?: Buffer;
}

/** What install needs to know about an app. */
export interface AppToInstall {
  packageName: string;
  versionCode: number;
  versionName: string;
  splits: string[];
}

const dirNode = (path: string, mode: number, owner: string, group: string, mtime: number): FileNode => ({ path, kind: 'dir', mode, size: 4096, mtime, owner, group });
const fileNode = (path: string, mode: number, content: string, mtime: number): FileNode => {
  const bytes = Buffer.from(content, 'utf8');
  return { path, kind: 'file', mode, size: bytes.length, mtime, owner: 'root', group: 'root', content: bytes };
};

function parentOf(path: string): string {
  return posix.dirname(path);
}

/**
 * A phone's `ro.serialno`: 16 upper-case hex digits from a hash of its id (ids begin with their
 * creation time, so phones created together share their first digits).
 */
export function serialOf(phoneId: string): string {
  return createHash('sha256').update(phoneId).digest('hex').slice(0, 16).toUpperCase();
}

export class SimPhone {
  readonly android: AndroidSpec;
  readonly model: ModelSpec;
  private tree?: Map<string, FileNode>;

  constructor(
    private readonly state: AndroidState,
    readonly phone: Phone,
    readonly image: Image | undefined,
    private readonly clock: Clock,
  ) {
    this.android = androidOf(image);
    this.model = MODELS[phone.modelName] ?? DEFAULT_MODEL;
  }

  static async load(state: AndroidState, phone: Phone, clock: Clock): Promise<SimPhone> {
    return new SimPhone(state, phone, await state.image(phone.imageId), clock);
  }

  private get id(): string {
    return this.phone.phoneId;
  }

  now(): number {
    return this.clock.now();
  }

  /** Wait on the phone's clock (the job's: a virtual clock's advance moves it). */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.clock.sleep(ms, signal);
  }

  get serial(): string {
    return serialOf(this.id);
  }

  get kernelRelease(): string {
    return `${this.android.kernel}-android${this.android.release}-opencph`;
  }

  /** The image's properties for this phone, before any update. */
  defaultProperties(): Properties {
    const a = this.android;
    const m = this.model;
    const incremental = this.image?.imageVersion ?? 'eng.opencph';
    return {
      'ro.product.brand': m.brand,
      'ro.product.manufacturer': m.manufacturer,
      'ro.product.model': m.model,
      'ro.product.name': m.device,
      'ro.product.device': m.device,
      'ro.product.board': m.device,
      'ro.product.cpu.abi': 'arm64-v8a',
      'ro.product.cpu.abilist': 'arm64-v8a,armeabi-v7a,armeabi',
      'ro.product.locale': 'en-US',
      'ro.hardware': 'cph',
      'ro.build.version.release': a.release,
      'ro.build.version.sdk': String(a.sdk),
      'ro.build.version.security_patch': a.securityPatch,
      'ro.build.version.incremental': incremental,
      'ro.build.id': a.buildId,
      'ro.build.display.id': incremental,
      'ro.build.type': 'user',
      'ro.build.tags': 'release-keys',
      'ro.build.fingerprint': `${m.brand}/${m.device}/${m.device}:${a.release}/${a.buildId}/${incremental}:user/release-keys`,
      'ro.serialno': this.serial,
      'ro.boot.serialno': this.serial,
      'ro.sf.lcd_density': String(m.display.density),
      'persist.sys.timezone': 'UTC',
      'sys.boot_completed': '1',
      'dev.bootcomplete': '1',
    };
  }

  /** System properties as `getprop` shows them: the image's, overlaid with the phone's custom ones. */
  properties(): Properties {
    return { ...this.defaultProperties(), ...(parseProperty(this.phone.property) ?? {}) };
  }

  display(): DisplaySpec {
    return this.model.display;
  }

  // Packages

  private userPackage(p: StoredPackage): InstalledPackage {
    return { name: p.packageName, system: false, apkPath: p.apkPath, versionCode: p.versionCode, versionName: p.versionName, splits: p.splits };
  }

  private sharedPackage(a: SharedApp): InstalledPackage {
    return { name: a.packageName, system: false, apkPath: a.apkPath, versionCode: a.versionCode, versionName: a.versionName, splits: [] };
  }

  private systemPackage(name: string): InstalledPackage | undefined {
    const entry = SYSTEM_PACKAGES.find(([n]) => n === name);
    return entry ? { name, system: true, apkPath: entry[1], versionCode: this.android.sdk, versionName: this.android.release, splits: [] } : undefined;
  }

  /** Every package, by name; an update of a system package shows as the user's install. */
  async packages(): Promise<InstalledPackage[]> {
    const byName = new Map<string, InstalledPackage>();
    for (const [name] of SYSTEM_PACKAGES) byName.set(name, this.systemPackage(name)!);
    for (const a of await this.state.sharedApps(this.phone.serverId)) byName.set(a.packageName, this.sharedPackage(a));
    for (const p of await this.state.packages(this.id)) byName.set(p.packageName, this.userPackage(p));
    return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async installed(name: string): Promise<InstalledPackage | undefined> {
    const p = await this.state.package(this.id, name);
    if (p) return this.userPackage(p);
    const shared = await this.state.sharedApp(this.phone.serverId, name);
    return shared ? this.sharedPackage(shared) : this.systemPackage(name);
  }

  async install(app: AppToInstall): Promise<InstalledPackage> {
    const tag = createHash('sha256').update(`${this.id}/${app.packageName}/${app.versionCode}`).digest('base64url');
    const p: StoredPackage = {
      packageName: app.packageName,
      versionCode: app.versionCode,
      versionName: app.versionName,
      apkPath: `/data/app/~~${tag.slice(0, 22)}==/${app.packageName}-${tag.slice(22, 44)}==/base.apk`,
      splits: app.splits,
      installedAt: this.now(),
    };
    await this.state.putPackage(this.id, p);
    return this.userPackage(p);
  }

  /** Remove a package the user installed; false when there is none (system packages stay). */
  uninstall(name: string): Promise<boolean> {
    return this.state.deletePackage(this.id, name);
  }

  // Files

  /** The image's own file tree; built once per phone object. */
  private imageTree(): Map<string, FileNode> {
    if (this.tree) return this.tree;
    const t = this.phone.createTime;
    const a = this.android;
    const buildProp = Object.entries(this.defaultProperties())
      .filter(([k]) => k.startsWith('ro.build.') || k.startsWith('ro.product.'))
      .map(([k, v]) => `${k}=${v}\n`)
      .join('');
    const nodes: FileNode[] = [
      dirNode('/', 0o755, 'root', 'root', t),
      dirNode('/data', 0o771, 'system', 'system', t),
      dirNode('/data/app', 0o771, 'system', 'system', t),
      dirNode('/data/data', 0o771, 'system', 'system', t),
      dirNode('/data/local', 0o751, 'root', 'root', t),
      dirNode('/data/local/tmp', 0o771, 'shell', 'shell', t),
      dirNode('/proc', 0o555, 'root', 'root', t),
      fileNode('/proc/version', 0o444, `Linux version ${this.kernelRelease} (build@opencph) #1 SMP PREEMPT\n`, t),
      dirNode('/sdcard', 0o770, 'root', 'everybody', t),
      ...['Download', 'DCIM', 'Movies', 'Music', 'Pictures'].map((d) => dirNode(`/sdcard/${d}`, 0o770, 'root', 'everybody', t)),
      dirNode('/system', 0o755, 'root', 'root', t),
      dirNode('/system/app', 0o755, 'root', 'root', t),
      dirNode('/system/bin', 0o755, 'root', 'shell', t),
      fileNode('/system/build.prop', 0o600, `# begin build properties\n${buildProp}# Android ${a.release}\n`, t),
      dirNode('/system/priv-app', 0o755, 'root', 'root', t),
      dirNode('/vendor', 0o755, 'root', 'shell', t),
    ];
    this.tree = new Map(nodes.map((n) => [n.path, n]));
    return this.tree;
  }

  private fromStored(f: StoredFile): FileNode {
    const { content, ...rest } = f;
    return { ...rest, owner: 'root', group: 'root', ...(content ? { content: Buffer.from(content) } : {}) };
  }

  async stat(path: string): Promise<FileNode | undefined> {
    const f = await this.state.file(this.id, path);
    if (f) return this.fromStored(f);
    const shared = this.imageTree().get(path) ? undefined : await this.state.sharedFile(this.phone.serverId, path);
    return shared ? this.fromStored(shared) : this.imageTree().get(path);
  }

  /** The files and directories written on this phone itself (what an export chooses from). */
  ownFiles(): Promise<StoredFile[]> {
    return this.state.files(this.id);
  }

  /** The entries of a directory, by name; what was written there hides the image's own. */
  async list(dir: string): Promise<FileNode[]> {
    const byPath = new Map<string, FileNode>();
    for (const f of await this.state.sharedChildren(this.phone.serverId, dir)) byPath.set(f.path, this.fromStored(f));
    for (const n of this.imageTree().values()) if (n.path !== '/' && parentOf(n.path) === dir) byPath.set(n.path, n);
    for (const f of await this.state.children(this.id, dir)) byPath.set(f.path, this.fromStored(f));
    return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Unpack entries under `/`, with the directories that hold them. */
  async unpack(entries: readonly TarEntry[]): Promise<void> {
    const files = new Map<string, StoredFile>();
    const now = this.now();
    for (const e of entries) {
      for (let dir = parentOf(e.path); dir !== '/'; dir = parentOf(dir)) {
        if (!files.has(dir) && !this.imageTree().has(dir)) files.set(dir, { path: dir, kind: 'dir', mode: 0o755, size: 4096, mtime: now, content: null });
      }
      files.set(e.path, {
        path: e.path,
        kind: e.kind,
        mode: e.mode,
        size: e.kind === 'dir' ? 4096 : e.size,
        mtime: e.mtime || now,
        content: e.kind === 'file' ? (e.content ?? Buffer.alloc(0)) : null,
      });
    }
    await this.state.putFiles(this.id, [...files.values()]);
  }

  // Settings

  setting(namespace: string, name: string): Promise<string | undefined> {
    return this.state.setting(this.id, namespace, name);
  }

  settings(namespace: string): Promise<[string, string][]> {
    return this.state.settings(this.id, namespace);
  }

  putSetting(namespace: string, name: string, value: string): Promise<void> {
    return this.state.putSetting(this.id, namespace, name, value);
  }

  deleteSetting(namespace: string, name: string): Promise<number> {
    return this.state.deleteSetting(this.id, namespace, name);
  }

  /** Factory reset of what the phone keeps: user packages, settings, the data partition. */
  wipe(): Promise<void> {
    return this.state.wipe(this.id, USER_DATA_ROOTS);
  }

  /** Delete what was written at `path` and under it; the image's own files stay (they are read-only). */
  remove(path: string): Promise<number> {
    return this.state.deleteTree(this.id, path);
  }
}
