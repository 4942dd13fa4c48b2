import type { Socket } from 'node:net';
import { ByteQueue } from './queue.js';
import { A_AUTH, A_CLSE, A_CNXN, A_OKAY, A_OPEN, A_VERSION, A_WRTE, encode, MAX_PAYLOAD, MessageReader, type Message } from './messages.js';

/**
 * The device side of one adb transport over TCP. The host's CNXN is answered at once with the
 * device's banner: the device never asks for AUTH, which adb accepts (a device with `ro.adb.secure`
 * unset does the same). Each OPEN becomes an AdbStream given to a service; flow control is adb's:
 * a WRTE is sent only after the host acknowledged the previous one with OKAY, and every WRTE of the
 * host is acknowledged once its bytes are queued for the service.
 */

export class StreamClosed extends Error {
  constructor() {
    super('the stream was closed');
  }
}

/** One open stream between a host socket and a device service. */
export class AdbStream {
  private readonly input = new ByteQueue();
  private closed = false;
  private ack?: { resolve: () => void; reject: (err: Error) => void };

  constructor(
    private readonly conn: Connection,
    readonly localId: number,
    readonly remoteId: number,
  ) {}

  /** The stream is closed, by either side (or the transport went away). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes from the host, as the transport delivered them. */
  received(data: Buffer): void {
    this.input.push(data);
  }

  /** The host's OKAY for our last WRTE. */
  acknowledged(): void {
    const ack = this.ack;
    this.ack = undefined;
    ack?.resolve();
  }

  /** The host closed the stream, or the transport is gone: readers see the end, writers fail. */
  hostClosed(): void {
    this.closed = true;
    this.input.end();
    const ack = this.ack;
    this.ack = undefined;
    ack?.reject(new StreamClosed());
  }

  /** The next bytes the host sent, whatever their length; undefined once the stream closed. */
  readSome(): Promise<Buffer | undefined> {
    return this.input.readSome();
  }

  /** Exactly `n` bytes; undefined when the stream closes before they came. */
  read(n: number): Promise<Buffer | undefined> {
    return this.input.read(n);
  }

  /** Send bytes to the host, in payloads it accepts, each after the OKAY of the one before. */
  async write(data: Buffer | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let at = 0; at < bytes.length; at += this.conn.maxPayload) {
      if (this.closed) throw new StreamClosed();
      const acked = new Promise<void>((resolve, reject) => (this.ack = { resolve, reject }));
      this.conn.send({ command: A_WRTE, arg0: this.localId, arg1: this.remoteId, data: bytes.subarray(at, at + this.conn.maxPayload) });
      await acked;
    }
  }

  /** Close the stream from the device's side (a service finished). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.input.end();
    this.conn.send({ command: A_CLSE, arg0: this.localId, arg1: this.remoteId, data: Buffer.alloc(0) });
    this.conn.forget(this.localId);
  }
}

/** A service that runs on an open stream; it closes the stream when done. */
export type Service = (stream: AdbStream) => Promise<void>;

export interface ConnectionOptions {
  /** The `device::…` banner answered to CNXN. */
  banner: () => string;
  /** The service an OPEN's destination names, or undefined to refuse it (CLSE). */
  route: (destination: string) => Service | undefined;
  /** Waited before an OPEN is answered (a slow device). */
  beforeOpen?: () => Promise<void>;
  onError?: (err: Error) => void;
}

export class Connection {
  maxPayload = MAX_PAYLOAD;
  private connected = false;
  private nextId = 1;
  private readonly streams = new Map<number, AdbStream>();
  private readonly reader = new MessageReader(() => MAX_PAYLOAD);

  constructor(
    private readonly socket: Socket,
    private readonly options: ConnectionOptions,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const m of this.reader.push(chunk)) this.handle(m);
      } catch (err) {
        options.onError?.(err as Error);
        socket.destroy();
      }
    });
    socket.on('close', () => this.drop());
    socket.on('error', () => this.drop());
  }

  send(m: Message): void {
    if (!this.socket.destroyed) this.socket.write(encode(m));
  }

  forget(localId: number): void {
    this.streams.delete(localId);
  }

  /** Every stream ends; the socket is destroyed. */
  drop(): void {
    for (const s of this.streams.values()) s.hostClosed();
    this.streams.clear();
    this.connected = false;
    if (!this.socket.destroyed) this.socket.destroy();
  }

  private handle(m: Message): void {
    switch (m.command) {
      case A_CNXN: {
        // A new CNXN restarts the transport: streams of the old one are gone.
        for (const s of this.streams.values()) s.hostClosed();
        this.streams.clear();
        this.maxPayload = Math.max(256, Math.min(m.arg1 || MAX_PAYLOAD, MAX_PAYLOAD));
        this.connected = true;
        this.send({ command: A_CNXN, arg0: A_VERSION, arg1: MAX_PAYLOAD, data: Buffer.from(this.options.banner(), 'utf8') });
        return;
      }
      case A_AUTH:
        // The device never sends an AUTH token, so a host has nothing to answer; ignore strays.
        return;
      case A_OPEN:
        if (this.connected) void this.open(m.arg0, m.data.toString('utf8').replace(/\0+$/, ''));
        return;
      case A_OKAY:
        this.streams.get(m.arg1)?.acknowledged();
        return;
      case A_WRTE: {
        const s = this.streams.get(m.arg1);
        if (!s) {
          this.send({ command: A_CLSE, arg0: 0, arg1: m.arg0, data: Buffer.alloc(0) });
          return;
        }
        s.received(m.data);
        this.send({ command: A_OKAY, arg0: s.localId, arg1: s.remoteId, data: Buffer.alloc(0) });
        return;
      }
      case A_CLSE: {
        const s = this.streams.get(m.arg1);
        if (s) {
          this.streams.delete(m.arg1);
          s.hostClosed();
        }
        return;
      }
      default:
        // SYNC and STLS are not used over TCP by this device; other commands are ignored as adbd does.
        return;
    }
  }

  private async open(remoteId: number, destination: string): Promise<void> {
    if (this.options.beforeOpen) await this.options.beforeOpen();
    if (this.socket.destroyed) return;
    const service = this.options.route(destination);
    if (!service) {
      this.send({ command: A_CLSE, arg0: 0, arg1: remoteId, data: Buffer.alloc(0) });
      return;
    }
    const stream = new AdbStream(this, this.nextId++, remoteId);
    this.streams.set(stream.localId, stream);
    this.send({ command: A_OKAY, arg0: stream.localId, arg1: remoteId, data: Buffer.alloc(0) });
    try {
      await service(stream);
    } catch (err) {
      if (!(err instanceof StreamClosed)) this.options.onError?.(err as Error);
    } finally {
      stream.close();
    }
  }
}
