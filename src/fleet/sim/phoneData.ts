import type { ObsRef } from '../../domain/commands.js';
import { Errors } from '../../domain/errors.js';
import { PhoneStatus, ServerStatus, phoneStatusName, serverStatusName } from '../../domain/status.js';
import { exportSelects, underDataRoots } from '../../domain/storage.js';
import type { DriverContext, DriverJob, DriverOutcome } from '../driver.js';
import { findObject, objectFile } from '../obs.js';
import { failOutcome } from '../outcome.js';
import { readTar, writeTar, type TarContents, type TarEntry } from '../tarball.js';
import { KEPT_FILE_BYTES, MAX_PUSH_ENTRIES } from './adb.js';
import { SimPhone } from './android.js';
import type { SimEnv, SimHandler } from './handlers.js';

/**
 * BatchExportCloudPhoneData and BatchImportCloudPhoneData on simulated phones: an export writes the
 * phone's own files under /data and /cache that its rules select as a tar into the OBS stand-in,
 * with a manifest naming the phone's Android; a restore unpacks such a tar back under its paths and
 * refuses one from a newer Android. Shared files and apps are the server's, not the phone's, so an
 * export never holds them.
 */

/** The tar entry that records where an export came from; a restore reads it and does not unpack it. */
export const EXPORT_MANIFEST = '/opencph-export.json';

interface Manifest {
  format: 'opencph-export/1';
  phone_id: string;
  image_id: string;
  android_release: string;
  android_sdk: number;
}

export const obsRef = (bucket: string, key: string): ObsRef => ({ bucket, key, uri: `obs://${bucket}/${key}` });

/** The phone a data job acts on, loaded, or why it cannot act now (only a running phone on a normal server). */
async function runningPhone(job: DriverJob, ctx: DriverContext, env: SimEnv): Promise<SimPhone | DriverOutcome> {
  const { phone, server } = job;
  if (!phone || !server) return failOutcome(Errors.phoneNotFound, 'The phone no longer exists.');
  if (server.status !== ServerStatus.Normal) return failOutcome(Errors.serverNotAvailable, `Server ${server.serverId} is ${serverStatusName(server.status)} (status ${server.status}).`);
  if (phone.status !== PhoneStatus.Running) return failOutcome(Errors.phoneNotAvailable, `Phone ${phone.phoneId} is ${phoneStatusName(phone.status)} (status ${phone.status}); its data can be moved only while it runs.`);
  return SimPhone.load(env.options.state, phone, ctx.clock);
}

/** The entries of a tar in the OBS stand-in, or the failure: no such object (CPS.0903), not a tar (CPS.0942). */
export async function readObjectTar(obsDir: string, ref: ObsRef): Promise<TarContents | DriverOutcome> {
  const file = await findObject(obsDir, ref);
  if (!file) return failOutcome(Errors.objectNotFound, `${ref.uri} was not found.`);
  try {
    return await readTar(file, { keepBytes: KEPT_FILE_BYTES, maxEntries: MAX_PUSH_ENTRIES });
  } catch (err) {
    return failOutcome(Errors.unusableTar, `${ref.uri}: ${(err as Error).message}.`);
  }
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

const exportData: SimHandler = async (job, ctx, env) => {
  const sim = await runningPhone(job, ctx, env);
  if (!(sim instanceof SimPhone)) return sim;
  const p = job.params as { include: string[]; exclude: string[]; bucket: string; objectPath: string };
  const ref = obsRef(p.bucket, p.objectPath);
  const dest = objectFile(env.options.obsDir, ref);
  if (!dest) return failOutcome(Errors.objectNotFound, `${ref.uri} cannot be written.`);
  await env.work(ctx, 2);
  const chosen = (await sim.ownFiles()).filter((f) => underDataRoots(f.path) && exportSelects(p.include, p.exclude, f.path));
  const manifest: Manifest = {
    format: 'opencph-export/1',
    phone_id: sim.phone.phoneId,
    image_id: sim.phone.imageId,
    android_release: sim.android.release,
    android_sdk: sim.android.sdk,
  };
  const body = Buffer.from(JSON.stringify(manifest) + '\n');
  const entries: TarEntry[] = [
    { path: EXPORT_MANIFEST, kind: 'file', mode: 0o644, size: body.length, mtime: sim.now(), content: body },
    ...chosen.map((f) => ({ path: f.path, kind: f.kind, mode: f.mode, size: f.content?.length ?? 0, mtime: f.mtime, ...(f.content ? { content: f.content } : {}) })),
  ];
  await writeTar(dest, entries);
  const files = chosen.filter((f) => f.kind === 'file').length;
  const lines = [`${ref.uri}: ${plural(files, 'file', 'files')} and ${plural(chosen.length - files, 'directory', 'directories')} of Android ${sim.android.release}`, ...chosen.map((f) => f.path)];
  return { ok: true, executeMsg: lines.join('\n') + '\n' };
};

/** The manifest of an export, when the tar has one that reads as such. */
function manifestOf(entries: readonly TarEntry[]): Manifest | undefined {
  const entry = entries.find((e) => e.path === EXPORT_MANIFEST && e.kind === 'file');
  try {
    const m = entry?.content ? (JSON.parse(entry.content.toString('utf8')) as Partial<Manifest>) : undefined;
    return m && typeof m.android_sdk === 'number' ? (m as Manifest) : undefined;
  } catch {
    return undefined;
  }
}

const importData: SimHandler = async (job, ctx, env) => {
  const sim = await runningPhone(job, ctx, env);
  if (!(sim instanceof SimPhone)) return sim;
  const p = job.params as { bucket: string; objectPath: string };
  const ref = obsRef(p.bucket, p.objectPath);
  const contents = await readObjectTar(env.options.obsDir, ref);
  if (!('entries' in contents)) return contents;
  const manifest = manifestOf(contents.entries);
  if (manifest && manifest.android_sdk > sim.android.sdk) {
    return failOutcome(
      Errors.newerAndroidData,
      `${ref.uri} holds data of Android ${manifest.android_release} (API ${manifest.android_sdk}); phone ${sim.phone.phoneId} runs Android ${sim.android.release} (API ${sim.android.sdk}).`,
    );
  }
  await env.work(ctx, 2);
  const restored = contents.entries.filter((e) => e.path !== EXPORT_MANIFEST && underDataRoots(e.path));
  const outside = contents.entries.filter((e) => e.path !== EXPORT_MANIFEST && !underDataRoots(e.path));
  await sim.unpack(restored);
  const files = restored.filter((e) => e.kind === 'file').length;
  const lines = [
    `${ref.uri}: ${plural(files, 'file', 'files')} and ${plural(restored.length - files, 'directory', 'directories')} restored`,
    ...[...outside.map((e) => e.path), ...contents.skipped].map((s) => `skipped ${s}`),
    ...restored.map((e) => e.path),
  ];
  return { ok: true, executeMsg: lines.join('\n') + '\n' };
};

export const PHONE_DATA_HANDLERS: Readonly<Record<string, SimHandler>> = {
  'phone.export-data': exportData,
  'phone.import-data': importData,
};
