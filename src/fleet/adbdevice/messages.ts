/**
 * The adb transport's messages: a 24-byte header of six little-endian words (command, arg0, arg1,
 * data length, data checksum, magic = command ^ 0xffffffff) followed by the payload.
 */

const word = (s: string) => Buffer.from(s, 'latin1').readUInt32LE(0);

export const A_CNXN = word('CNXN');
export const A_AUTH = word('AUTH');
export const A_OPEN = word('OPEN');
export const A_OKAY = word('OKAY');
export const A_CLSE = word('CLSE');
export const A_WRTE = word('WRTE');
export const A_SYNC = word('SYNC');
export const A_STLS = word('STLS');

/** The protocol version of adb 1.0.41 that skips checksums. */
export const A_VERSION = 0x01000001;
/** The largest payload this device sends or accepts; the host's own maximum wins when smaller. */
export const MAX_PAYLOAD = 1024 * 1024;
export const HEADER_BYTES = 24;

export interface Message {
  command: number;
  arg0: number;
  arg1: number;
  data: Buffer;
}

export function commandName(command: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(command >>> 0, 0);
  return b.toString('latin1');
}

/** The sum of the payload's bytes: what hosts before version 0x01000001 check. */
function checksum(data: Buffer): number {
  let sum = 0;
  for (const byte of data) sum += byte;
  return sum >>> 0;
}

export function encode(m: Message): Buffer {
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeUInt32LE(m.command >>> 0, 0);
  head.writeUInt32LE(m.arg0 >>> 0, 4);
  head.writeUInt32LE(m.arg1 >>> 0, 8);
  head.writeUInt32LE(m.data.length, 12);
  head.writeUInt32LE(checksum(m.data), 16);
  head.writeUInt32LE((m.command ^ 0xffffffff) >>> 0, 20);
  return m.data.length ? Buffer.concat([head, m.data]) : head;
}

export class ProtocolError extends Error {}

/** Cuts a byte stream into messages; a bad magic or an oversized payload is a protocol error. */
export class MessageReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly maxPayload: () => number) {}

  /** The messages complete after these bytes. */
  push(chunk: Buffer): Message[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Message[] = [];
    while (this.pending.length >= HEADER_BYTES) {
      const command = this.pending.readUInt32LE(0);
      const length = this.pending.readUInt32LE(12);
      if (this.pending.readUInt32LE(20) !== (command ^ 0xffffffff) >>> 0) throw new ProtocolError(`bad magic on ${commandName(command)}`);
      if (length > Math.max(this.maxPayload(), MAX_PAYLOAD)) throw new ProtocolError(`payload of ${length} bytes is too large`);
      if (this.pending.length < HEADER_BYTES + length) break;
      out.push({
        command,
        arg0: this.pending.readUInt32LE(4),
        arg1: this.pending.readUInt32LE(8),
        data: Buffer.from(this.pending.subarray(HEADER_BYTES, HEADER_BYTES + length)),
      });
      this.pending = this.pending.subarray(HEADER_BYTES + length);
    }
    return out;
  }
}
