import { posix } from 'node:path';
import { list, type ReadEntry } from 'tar';

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
