import { posix } from 'node:path';
import type { FileNode, SimPhone } from '../sim/android.js';
import type { AdbStream } from './transport.js';

/**
 * `sync:`, the file service of `adb push`/`pull`/`ls`: requests of a 4-byte id and a little-endian
 * length, then that many bytes. STAT (v1: mode, size, mtime; all zero when missing), STA2/LST2
 * (the `stat_v2` feature: 72 bytes with an errno), LIST/LIS2 (`ls_v2`) with DENT/DNT2 entries and a
 * DONE as long as one, SEND (`path,mode`, DATA chunks of at most 64 KiB, DONE carrying the mtime;
 * missing directories are made, as `fixed_push_mkdir` promises), RECV and QUIT. A file pushed here is
 * kept whole, up to MAX_SEND_BYTES, in the phone's state, so a later pull gives the same bytes.
 */

export const SYNC_DATA_MAX = 64 * 1024;
/** The largest file `adb push` may write on a virtual device (the state keeps it in the database). */
export const MAX_SEND_BYTES = 64 * 1024 * 1024;
const PATH_MAX = 1024;
const ENOENT = 2;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const IDS: Record<string, number> = { root: 0, system: 1000, shell: 2000, everybody: 9997 };

const id = (name: string) => Buffer.from(name, 'latin1');

function u32s(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32LE(v >>> 0, i * 4));
  return b;
}

const modeOf = (n: FileNode) => (n.kind === 'dir' ? S_IFDIR : S_IFREG) | (n.mode & 0o7777);
const seconds = (ms: number) => Math.floor(ms / 1000);

/** The fields of stat_v2 after its id: error, dev, ino, mode, nlink, uid, gid, size, atime, mtime, ctime. */
function statV2(n: FileNode | undefined): Buffer {
  const b = Buffer.alloc(68);
  if (!n) {
    b.writeUInt32LE(ENOENT, 0);
    return b;
  }
  b.writeBigUInt64LE(1n, 4);
  b.writeBigUInt64LE(BigInt(inode(n.path)), 12);
  b.writeUInt32LE(modeOf(n), 20);
  b.writeUInt32LE(n.kind === 'dir' ? 2 : 1, 24);
  b.writeUInt32LE(IDS[n.owner] ?? 0, 28);
  b.writeUInt32LE(IDS[n.group] ?? 0, 32);
  b.writeBigUInt64LE(BigInt(n.size), 36);
  for (const at of [44, 52, 60]) b.writeBigInt64LE(BigInt(seconds(n.mtime)), at);
  return b;
}

/** A stable inode number for a path. */
function inode(path: string): number {
  let h = 2166136261;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 16777619);
  return h >>> 0;
}

function normalize(path: string): string {
  const p = posix.normalize(path.startsWith('/') ? path : `/${path}`);
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

const fail = (message: string) => {
  const text = Buffer.from(message, 'utf8');
  return Buffer.concat([id('FAIL'), u32s(text.length), text]);
};

export function syncService(phoneOf: () => Promise<SimPhone>) {
  return async (stream: AdbStream): Promise<void> => {
    const phone = await phoneOf();
    for (;;) {
      const head = await stream.read(8);
      if (!head) return;
      const request = head.toString('latin1', 0, 4);
      const length = head.readUInt32LE(4);
      if (request === 'QUIT') return;
      if (length > PATH_MAX) {
        await stream.write(fail(`path too long: ${length} bytes`));
        return;
      }
      const arg = length ? await stream.read(length) : Buffer.alloc(0);
      if (!arg) return;
      const text = arg.toString('utf8');
      switch (request) {
        case 'STAT': {
          const n = await phone.stat(normalize(text));
          await stream.write(Buffer.concat([id('STAT'), n ? u32s(modeOf(n), n.size, seconds(n.mtime)) : u32s(0, 0, 0)]));
          break;
        }
        case 'STA2':
        case 'LST2':
          await stream.write(Buffer.concat([id(request), statV2(await phone.stat(normalize(text)))]));
          break;
        case 'LIST':
        case 'LIS2':
          await list(stream, phone, normalize(text), request === 'LIS2');
          break;
        case 'SEND':
          if (!(await send(stream, phone, text))) return;
          break;
        case 'RECV':
          await recv(stream, phone, normalize(text));
          break;
        default:
          await stream.write(fail(`unknown sync request ${JSON.stringify(request)}`));
          return;
      }
    }
  };
}

async function list(stream: AdbStream, phone: SimPhone, dir: string, v2: boolean): Promise<void> {
  const node = await phone.stat(dir);
  const children = node?.kind === 'dir' ? await phone.list(dir) : [];
  const parts: Buffer[] = [];
  for (const c of children) {
    const name = Buffer.from(posix.basename(c.path), 'utf8');
    parts.push(v2 ? Buffer.concat([id('DNT2'), statV2(c), u32s(name.length), name]) : Buffer.concat([id('DENT'), u32s(modeOf(c), c.size, seconds(c.mtime), name.length), name]));
  }
  parts.push(Buffer.concat([id('DONE'), Buffer.alloc(v2 ? 72 : 16)]));
  await stream.write(Buffer.concat(parts));
}

/** One SEND; false when the stream ended in the middle of it. */
async function send(stream: AdbStream, phone: SimPhone, spec: string): Promise<boolean> {
  const comma = spec.lastIndexOf(',');
  const path = normalize(comma >= 0 ? spec.slice(0, comma) : spec);
  const mode = comma >= 0 ? Number.parseInt(spec.slice(comma + 1), 10) : 0o644;
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const head = await stream.read(8);
    if (!head) return false;
    const what = head.toString('latin1', 0, 4);
    const n = head.readUInt32LE(4);
    if (what === 'DATA') {
      if (n > SYNC_DATA_MAX) {
        await stream.write(fail(`data chunk of ${n} bytes is larger than ${SYNC_DATA_MAX}`));
        return false;
      }
      const data = await stream.read(n);
      if (!data) return false;
      size += n;
      if (size <= MAX_SEND_BYTES) chunks.push(data);
      continue;
    }
    if (what !== 'DONE') {
      await stream.write(fail(`unexpected ${JSON.stringify(what)} in a SEND`));
      return false;
    }
    const existing = await phone.stat(path);
    if (existing?.kind === 'dir') await stream.write(fail(`couldn't create file: Is a directory`));
    else if (size > MAX_SEND_BYTES) await stream.write(fail(`write failed: No space left on device (a virtual device keeps files of up to ${MAX_SEND_BYTES} bytes)`));
    else {
      const content = Buffer.concat(chunks);
      const perm = Number.isFinite(mode) && mode > 0 ? mode & 0o7777 : 0o644;
      await phone.unpack([{ path, kind: 'file', mode: perm, size: content.length, mtime: n * 1000, content }]);
      await stream.write(Buffer.concat([id('OKAY'), u32s(0)]));
    }
    return true;
  }
}

async function recv(stream: AdbStream, phone: SimPhone, path: string): Promise<void> {
  const node = await phone.stat(path);
  if (!node) return stream.write(fail(`open failed: No such file or directory`));
  if (node.kind === 'dir') return stream.write(fail(`read failed: Is a directory`));
  const content = node.content ?? Buffer.alloc(0);
  const parts: Buffer[] = [];
  for (let at = 0; at < content.length; at += SYNC_DATA_MAX) {
    const part = content.subarray(at, at + SYNC_DATA_MAX);
    parts.push(id('DATA'), u32s(part.length), part);
  }
  parts.push(id('DONE'), u32s(0));
  await stream.write(Buffer.concat(parts));
}
