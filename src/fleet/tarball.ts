import { chmod, mkdir, mkdtemp, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { create, extract, list, type ReadEntry } from 'tar';

/** One entry of a pushed tar, as it lands under the phone's root. */
export interface TarEntry {
  /** Absolute and normalized: `data/local/tmp/a.txt` in the tar is `/data/local/tmp/a.txt`. */
  path: string;
  kind: 'file' | 'dir';
  mode: number;
  size: number;
  /** ms since the epoch */
  mtime: number;
  /** The first `keepBytes` of a file. */
  content?: Buffer;
}

export interface TarContents {
  entries: TarEntry[];
  /** Entries not unpacked (links, devices, paths with `..`), with why. */
  skipped: string[];
}

export interface ReadTarOptions {
  /** Bytes of each file's content to keep. */
  keepBytes: number;
  /** More entries than this and the tar is refused. */
  maxEntries: number;
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

/** Where an entry lands, or undefined when its path climbs out of the root. */
function landing(entryPath: string): string | undefined {
  const segments = entryPath.split('/');
  if (segments.includes('..')) return undefined;
  const path = posix.normalize('/' + entryPath).replace(/\/+$/, '');
  return path === '' ? '/' : path;
}

/** Read a tar (or tar.gz) for its entries; throws an Error saying why when it is not one. */
export async function readTar(file: string, o: ReadTarOptions): Promise<TarContents> {
  const entries: TarEntry[] = [];
  const skipped: string[] = [];
  let tooMany = false;
  const onReadEntry = (entry: ReadEntry) => {
    if (tooMany) return entry.resume();
    const path = landing(entry.path);
    const kind = entry.type === 'Directory' ? 'dir' : FILE_TYPES.has(entry.type) ? 'file' : undefined;
    if (!path || !kind || path === '/') {
      if (path !== '/') skipped.push(`${entry.path} (${path ? entry.type : 'outside the root'})`);
      entry.resume();
      return;
    }
    if (entries.length >= o.maxEntries) {
      tooMany = true;
      return entry.resume();
    }
    const item: TarEntry = { path, kind, mode: (entry.mode ?? (kind === 'dir' ? 0o755 : 0o644)) & 0o7777, size: entry.size, mtime: entry.mtime?.getTime() ?? 0 };
    if (kind === 'file') {
      const chunks: Buffer[] = [];
      let kept = 0;
      entry.on('data', (chunk: Buffer) => {
        if (kept >= o.keepBytes) return;
        const part = chunk.subarray(0, o.keepBytes - kept);
        chunks.push(part);
        kept += part.length;
      });
      entry.on('end', () => (item.content = Buffer.concat(chunks)));
    }
    entries.push(item);
  };
  await list({ file, strict: true, onReadEntry });
  if (tooMany) throw new Error(`it has more than ${o.maxEntries} entries`);
  return { entries, skipped };
}

/**
 * Write `entries` (absolute paths; directories before what they hold) as a tar at `file`, whole or
 * not at all: it is built beside its place and renamed into it, so a retried job overwrites it.
 */
export async function writeTar(file: string, entries: readonly TarEntry[]): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'opencph-tar-'));
  try {
    const root = join(work, 'root');
    await mkdir(root);
    const names: string[] = [];
    for (const e of entries) {
      const name = e.path.replace(/^\/+/, '');
      const at = join(root, ...name.split('/'));
      if (e.kind === 'dir') await mkdir(at, { recursive: true });
      else {
        await mkdir(dirname(at), { recursive: true });
        await writeFile(at, e.content ?? Buffer.alloc(0));
      }
      names.push(name);
    }
    // Modes and times last: a directory's would change as its files are written.
    for (const e of [...entries].reverse()) {
      const at = join(root, ...e.path.replace(/^\/+/, '').split('/'));
      await chmod(at, e.kind === 'dir' ? e.mode | 0o700 : e.mode | 0o600);
      const t = new Date(e.mtime);
      await utimes(at, t, t);
    }
    await mkdir(dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.partial`;
    await create({ file: partial, cwd: root, portable: true, noDirRecurse: true }, names);
    await rename(partial, file);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Extract the regular files of a tar whose names end in `suffix` into a new folder, for `use`;
 * the folder goes afterwards. Throws an Error saying why when the file is not a tar.
 */
export async function withExtracted<T>(file: string, suffix: string, use: (files: string[]) => Promise<T>): Promise<T> {
  const work = await mkdtemp(join(tmpdir(), 'opencph-untar-'));
  try {
    const found: string[] = [];
    await extract({
      file,
      cwd: work,
      strict: true,
      // node-tar keeps entries inside `cwd` (no absolute paths, no `..`).
      filter: (path, entry) => (entry as ReadEntry).type === 'File' && path.toLowerCase().endsWith(suffix) && (found.push(path), true),
    });
    return await use(found.map((p) => join(work, p)));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
