import { posix } from 'node:path';
import { Errors } from '../../domain/errors.js';
import { Limits } from '../../domain/limits.js';
import { ServerStatus, serverStatusName } from '../../domain/status.js';
import { trimSlash, underDataRoots } from '../../domain/storage.js';
import { readApk, type ApkInfo } from '../apk.js';
import type { DriverJob, DriverOutcome } from '../driver.js';
import { findObject } from '../obs.js';
import { withExtracted } from '../tarball.js';
import type { SimHandler } from './handlers.js';
import { failOutcome } from '../outcome.js';
import { obsRef, readObjectTar } from './phoneData.js';
import type { StoredFile } from './state.js';

/**
 * Shared storage and shared apps of a simulated server (spec 2.0): kept once per server in the
 * phones' state, seen by every phone of the server (SimPhone overlays them). Whether a server's
 * model has shared storage is settled when the call is submitted.
 */

/** The server of a share job, or why it cannot act now. */
function normalServer(job: DriverJob): string | DriverOutcome {
  const server = job.server;
  if (!server) return failOutcome(Errors.batchInvalidServerId, 'The server no longer exists.');
  if (server.status !== ServerStatus.Normal) return failOutcome(Errors.serverNotAvailable, `Server ${server.serverId} is ${serverStatusName(server.status)} (status ${server.status}).`);
  return server.serverId;
}

const phonesOf = (job: DriverJob) => `${job.serverPhones?.length ?? 0} phone${job.serverPhones?.length === 1 ? '' : 's'}`;

const pushShareFiles: SimHandler = async (job, ctx, env) => {
  const serverId = normalServer(job);
  if (typeof serverId !== 'string') return serverId;
  const p = job.params as { bucket: string; objectPath: string };
  const ref = obsRef(p.bucket, p.objectPath);
  const contents = await readObjectTar(env.options.obsDir, ref);
  if (!('entries' in contents)) return contents;
  const outside = contents.entries.find((e) => !underDataRoots(e.path));
  if (outside) return failOutcome(Errors.unusableTar, `${ref.uri}: ${outside.path} is outside /data and /cache; shared files go there only.`);
  await env.work(ctx, 2);
  const now = ctx.clock.now();
  const files = new Map<string, StoredFile>();
  for (const e of contents.entries) {
    // The directories that hold what the tar has; /data is every image's own.
    for (let dir = posix.dirname(e.path); dir !== '/' && dir !== '/data'; dir = posix.dirname(dir)) {
      if (!files.has(dir)) files.set(dir, { path: dir, kind: 'dir', mode: 0o755, size: 4096, mtime: now, content: null });
    }
    files.set(e.path, { path: e.path, kind: e.kind, mode: e.mode, size: e.kind === 'dir' ? 4096 : e.size, mtime: e.mtime || now, content: e.kind === 'file' ? (e.content ?? Buffer.alloc(0)) : null });
  }
  await env.options.state.putSharedFiles(serverId, [...files.values()]);
  const count = contents.entries.filter((e) => e.kind === 'file').length;
  const lines = [`${ref.uri}: ${count} file${count === 1 ? '' : 's'} shared with the ${phonesOf(job)} of server ${serverId}`, ...contents.skipped.map((s) => `skipped ${s}`), ...contents.entries.map((e) => e.path)];
  return { ok: true, executeMsg: lines.join('\n') + '\n' };
};

const deleteShareFiles: SimHandler = async (job, ctx, env) => {
  const serverId = normalServer(job);
  if (typeof serverId !== 'string') return serverId;
  await env.work(ctx, 1);
  const lines: string[] = [];
  // Like `rm -rf`: a path that is not there is no failure (and a retried job ends the same).
  for (const path of (job.params as { filePaths: string[] }).filePaths) {
    const n = await env.options.state.deleteSharedTree(serverId, trimSlash(path));
    lines.push(n > 0 ? `deleted ${path} (${n} entr${n === 1 ? 'y' : 'ies'})` : `${path}: no such shared file`);
  }
  return { ok: true, executeMsg: lines.join('\n') + '\n' };
};

/**
 * ListShareFiles' answer in the job's execute_msg (at most 1024 bytes): a header line
 * `path=<path> total=<entries there> offset=<offset> count=<lines below>`, then one line per entry,
 * `<d|f> <size in bytes> <name>`. Entries that would not fit are left out of `count`: the next page
 * starts at offset + count.
 */
export function formatListing(path: string, total: number, offset: number, entries: readonly StoredFile[]): string {
  const lines = entries.map((e) => `${e.kind === 'dir' ? 'd' : 'f'} ${e.size} ${posix.basename(e.path)}\n`);
  for (let count = lines.length; ; count--) {
    const text = `path=${path} total=${total} offset=${offset} count=${count}\n` + lines.slice(0, count).join('');
    if (Buffer.byteLength(text) <= Limits.executeMsgBytes || count === 0) return text;
  }
}

const listShareFiles: SimHandler = async (job, ctx, env) => {
  const serverId = normalServer(job);
  if (typeof serverId !== 'string') return serverId;
  const p = job.params as { path: string; offset: number; limit: number };
  const path = trimSlash(p.path);
  const state = env.options.state;
  await env.work(ctx, 0.1);
  const self = await state.sharedFile(serverId, path);
  if (self && self.kind === 'file') return { ok: true, executeMsg: formatListing(path, 1, p.offset, p.offset === 0 ? [self] : []) };
  const total = await state.countSharedChildren(serverId, path);
  const entries = await state.sharedChildren(serverId, path, { offset: p.offset, limit: p.limit });
  return { ok: true, executeMsg: formatListing(path, total, p.offset, entries) };
};

/** Where a shared app's APK shows on the phones. */
const sharedApkPath = (packageName: string) => `/data/app/shared/${packageName}/base.apk`;

const pushShareApps: SimHandler = async (job, ctx, env) => {
  const serverId = normalServer(job);
  if (typeof serverId !== 'string') return serverId;
  const p = job.params as { packageName: string; preInstall: boolean; bucket: string; objectPath: string };
  const ref = obsRef(p.bucket, p.objectPath);
  const file = await findObject(env.options.obsDir, ref);
  if (!file) return failOutcome(Errors.objectNotFound, `${ref.uri} was not found.`);
  let base: ApkInfo | undefined;
  try {
    base = await withExtracted(file, '.apk', async (apks) => {
      for (const apk of apks) {
        const info = await readApk(apk).catch(() => undefined);
        if (info && !info.split && info.packageName === p.packageName) return info;
      }
      return undefined;
    });
  } catch (err) {
    return failOutcome(Errors.unusableTar, `${ref.uri}: ${(err as Error).message}.`);
  }
  if (!base) return failOutcome(Errors.unusableTar, `${ref.uri} holds no base APK of ${p.packageName}.`);
  await env.work(ctx, 2);
  await env.options.state.putSharedApp(serverId, {
    packageName: base.packageName,
    versionCode: base.versionCode,
    versionName: base.versionName,
    apkPath: sharedApkPath(base.packageName),
    preInstall: p.preInstall,
    installedAt: ctx.clock.now(),
  });
  return { ok: true, executeMsg: `Success\n${base.packageName} ${base.versionName} (${base.versionCode}) shared with the ${phonesOf(job)} of server ${serverId}\n` };
};

const deleteShareApps: SimHandler = async (job, ctx, env) => {
  const serverId = normalServer(job);
  if (typeof serverId !== 'string') return serverId;
  const name = (job.params as { packageName: string }).packageName;
  await env.work(ctx, 1);
  if (!(await env.options.state.deleteSharedApp(serverId, name))) return failOutcome(Errors.sharedAppNotFound, `${name} is not shared on server ${serverId}.`);
  return { ok: true, executeMsg: 'Success\n' };
};

export const SHARE_HANDLERS: Readonly<Record<string, SimHandler>> = {
  'server.push-share-files': pushShareFiles,
  'server.delete-share-files': deleteShareFiles,
  'server.list-share-files': listShareFiles,
  'server.push-share-apps': pushShareApps,
  'server.delete-share-apps': deleteShareApps,
};
