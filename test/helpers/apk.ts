import { crc32 } from 'node:zlib';

/**
 * Tiny but real APKs for tests: a zip holding a binary AndroidManifest.xml (AXML), the format
 * aapt writes and Android's package manager reads.
 */

export interface ManifestSpec {
  packageName: string;
  versionCode: number;
  versionName: string;
  /** Makes it a split APK of `packageName`. */
  split?: string;
}

const ANDROID_NS = 'http://schemas.android.com/apk/res/android';
const TYPE_STRING = 0x03;
const TYPE_INT_DEC = 0x10;
const NO_INDEX = 0xffffffff;

function chunk(type: number, headerSize: number, header: Buffer, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(type, 0);
  head.writeUInt16LE(headerSize, 2);
  head.writeUInt32LE(8 + header.length + body.length, 4);
  return Buffer.concat([head, header, body]);
}

function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32LE(v >>> 0, i * 4));
  return b;
}

/** A UTF-8 string pool. */
function stringPool(strings: string[]): Buffer {
  const encoded = strings.map((s) => {
    const bytes = Buffer.from(s, 'utf8');
    if (s.length > 0x7f || bytes.length > 0x7f) throw new Error('test strings are short');
    return Buffer.concat([Buffer.from([s.length, bytes.length]), bytes, Buffer.from([0])]);
  });
  const offsets: number[] = [];
  let at = 0;
  for (const e of encoded) {
    offsets.push(at);
    at += e.length;
  }
  let data = Buffer.concat(encoded);
  if (data.length % 4) data = Buffer.concat([data, Buffer.alloc(4 - (data.length % 4))]);
  const headerSize = 28;
  const stringsStart = headerSize + strings.length * 4;
  const header = u32(strings.length, 0, 1 << 8 /* UTF-8 */, stringsStart, 0);
  return chunk(0x0001, headerSize, header, Buffer.concat([u32(...offsets), data]));
}

/** The binary form of `<manifest xmlns:android=… package=… android:versionCode=… android:versionName=… [split=…]/>`. */
export function binaryManifest(m: ManifestSpec): Buffer {
  // Index 0 is never used as a value: the parser reads a string reference of 0 as "".
  const strings = ['versionCode', 'versionName', 'package', 'split', 'manifest', 'android', ANDROID_NS, m.packageName, m.versionName, m.split ?? ''];
  const S = Object.fromEntries(strings.map((s, i) => [s, i])) as Record<string, number>;
  const idx = (s: string) => strings.indexOf(s);
  const resourceMap = chunk(0x0180, 8, Buffer.alloc(0), u32(0x0101021b, 0x0101021c));
  const namespace = (type: number) => chunk(type, 16, u32(1, NO_INDEX), u32(S.android!, S[ANDROID_NS]!));
  const attr = (ns: number, name: number, raw: number, type: number, data: number) => {
    const typed = Buffer.alloc(8);
    typed.writeUInt16LE(8, 0);
    typed.writeUInt8(0, 2);
    typed.writeUInt8(type, 3);
    typed.writeUInt32LE(data >>> 0, 4);
    return Buffer.concat([u32(ns, name, raw), typed]);
  };
  const attrs = [
    attr(NO_INDEX, S.package!, idx(m.packageName), TYPE_STRING, idx(m.packageName)),
    attr(S[ANDROID_NS]!, S.versionCode!, NO_INDEX, TYPE_INT_DEC, m.versionCode),
    attr(S[ANDROID_NS]!, S.versionName!, idx(m.versionName), TYPE_STRING, idx(m.versionName)),
    ...(m.split ? [attr(NO_INDEX, S.split!, idx(m.split), TYPE_STRING, idx(m.split))] : []),
  ];
  const startHeader = u32(1, NO_INDEX);
  const startBody = Buffer.alloc(20);
  startBody.writeUInt32LE(NO_INDEX, 0);
  startBody.writeUInt32LE(S.manifest!, 4);
  startBody.writeUInt16LE(20, 8); // attributeStart
  startBody.writeUInt16LE(20, 10); // attributeSize
  startBody.writeUInt16LE(attrs.length, 12);
  const start = chunk(0x0102, 16, startHeader, Buffer.concat([startBody, ...attrs]));
  const end = chunk(0x0103, 16, u32(1, NO_INDEX), u32(NO_INDEX, S.manifest!));
  const body = Buffer.concat([stringPool(strings), resourceMap, namespace(0x0100), start, end, namespace(0x0101)]);
  return chunk(0x0003, 8, Buffer.alloc(0), body);
}

/** A zip of stored (uncompressed) entries. */
export function zip(entries: Record<string, Buffer>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(entries)) {
    const fileName = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(10, 4); // version needed
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fileName.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // version made by
    central.writeUInt16LE(10, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(fileName.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fileName, data);
    centrals.push(central, fileName);
    offset += local.length + fileName.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const count = Object.keys(entries).length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

export function buildApk(m: ManifestSpec): Buffer {
  return zip({ 'AndroidManifest.xml': binaryManifest(m), 'classes.dex': Buffer.from('dex\n035\0') });
}
