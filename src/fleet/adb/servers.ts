import * as adbkit from '@devicefarmer/adbkit';
import type { Client } from '@devicefarmer/adbkit';
import * as connectionModule from '@devicefarmer/adbkit/dist/src/adb/connection.js';

// CommonJS modules: Node finds their classes on the default export (the module object), a bundler (vitest) by name.
const found = adbkit as unknown as { Adb?: typeof adbkit.Adb; default?: { Adb?: typeof adbkit.Adb } };
const Adb = (found.Adb ?? found.default?.Adb)!;
type AdbConnection = Awaited<ReturnType<Client['connection']>>;
type ConnectionClass = new (options: unknown) => AdbConnection;
const connectionExport = (connectionModule as unknown as { default: ConnectionClass | { default: ConnectionClass } }).default;
const Connection: ConnectionClass = typeof connectionExport === 'function' ? connectionExport : connectionExport.default;

/** Where an adb server listens, `host:port`; the default is adb's own. */
export const DEFAULT_ADB_SERVER = '127.0.0.1:5037';

/**
 * How long a question to an adb server (its device list, its version, a connect) may take: a server
 * that takes connections and never answers must hold neither a look of the watcher nor a job.
 */
export const ANSWER_MS = 5000;
/**
 * How long a TCP device may be listed offline before it is disconnected and connected again: adb
 * would retry only some 10 s later, while a handshake under way takes milliseconds. A new
 * connection gets as long to finish its own.
 */
export const STALE_MS = 1500;

export interface AdbAddress {
  host: string;
  port: number;
}

/** `host:port` (an IPv6 host in brackets), or undefined when it is not one. */
export function parseAdbServer(text: string): AdbAddress | undefined {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (m[1] ?? m[2])!, port };
}

/** The device at `host:port` of a serial that names a TCP device (`10.0.0.7:5555`), which `adb connect` reaches. */
export function tcpTarget(serial: string): AdbAddress | undefined {
  return parseAdbServer(serial);
}

/** A host-side request on a fresh connection to the adb server (4 hex digits of length, then the text). */
export function request(service: string): Buffer {
  return Buffer.from(Buffer.byteLength(service).toString(16).padStart(4, '0') + service);
}

/** The adb server did not answer: nothing listens there, it refused, closed or kept silent. */
export class AdbServerDown extends Error {
  constructor(
    readonly adbServer: string,
    readonly why: string,
  ) {
    super(`the adb server ${adbServer} does not answer (${why})`);
  }
}

/**
 * An adbkit client that never starts an adb server. adbkit runs `adb -P PORT start-server` when a
 * connection is refused; the adb server is the user's (its keys, its USB devices, perhaps on
 * another host), so OpenCPH only says that it is down (docs/decisions/0030-adb-server-down.md).
 */
function clientFor(address: AdbAddress): Client {
  const client = Adb.createClient({ host: address.host, port: address.port });
  const options = (client as unknown as { options: unknown }).options;
  client.connection = () => {
    const conn = new Connection(options);
    (conn as unknown as { triedStarting: boolean }).triedStarting = true;
    conn.on('error', (err: Error) => client.emit('error', err));
    return conn.connect() as ReturnType<Client['connection']>;
  };
  // A connection's late error comes here; without a listener it would end the process.
  client.on('error', () => undefined);
  return client;
}

/**
 * One host request answered with a value (`host:devices`, `host-serial:S:features`, …), within
 * `timeoutMs`: the connection is destroyed past it.
 */
export async function hostQuery(client: Client, service: string, timeoutMs = ANSWER_MS): Promise<string> {
  let conn: AdbConnection | undefined;
  let timer: NodeJS.Timeout | undefined;
  // Destroyed with an error: adbkit's parser waits for one (or an end), and a socket destroyed
  // without one would leave its read, the connection and the socket pending for good.
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`no answer within ${timeoutMs / 1000} s`);
      conn?.socket?.destroy(err);
      reject(err);
    }, timeoutMs);
  });
  const ask = async () => {
    conn = await client.connection();
    if (!timer) {
      const err = new Error('the answer came too late');
      conn.socket.destroy(err);
      throw err;
    }
    conn.write(request(service));
    const reply = await conn.parser.readAscii(4);
    if (reply !== 'OKAY') await conn.parser.readError();
    return (await conn.parser.readValue()).toString('utf8');
  };
  const asked = ask();
  asked.catch(() => undefined);
  try {
    return await Promise.race([asked, late]);
  } finally {
    clearTimeout(timer);
    timer = undefined;
    conn?.end();
  }
}

/** What a failure to reach a server says: `connect ECONNREFUSED 127.0.0.1:5037`, `the connection closed`, … */
function reason(err: unknown): string {
  const e = err as Error & { code?: string };
  if (e?.name === 'PrematureEOFError' || e?.code === 'ECONNRESET') return 'it closed the connection';
  return e?.message ?? String(err);
}

/** One adbkit client per adb server, made on first use. */
export class AdbServers {
  private readonly clients = new Map<string, Client>();

  client(adbServer: string): Client {
    let client = this.clients.get(adbServer);
    if (!client) {
      const address = parseAdbServer(adbServer);
      if (!address) throw new Error(`"${adbServer}" is not host:port`);
      client = clientFor(address);
      this.clients.set(adbServer, client);
    }
    return client;
  }

  /** Every device the server lists, with its state (`device`, `offline`, `unauthorized`, …). Throws AdbServerDown. */
  async devices(adbServer: string): Promise<Map<string, string>> {
    let text: string;
    try {
      text = await hostQuery(this.client(adbServer), 'host:devices');
    } catch (err) {
      throw new AdbServerDown(adbServer, reason(err));
    }
    const listed = new Map<string, string>();
    for (const line of text.split('\n')) {
      const [serial, state] = line.split('\t');
      if (serial && state) listed.set(serial, state.trim());
    }
    return listed;
  }

  /** The device's state on its server, or undefined when the server does not list it. Throws AdbServerDown. */
  async state(adbServer: string, serial: string): Promise<string | undefined> {
    return (await this.devices(adbServer)).get(serial);
  }

  /** Why the server does not answer (`host:version`), or undefined when it does. */
  async down(adbServer: string): Promise<string | undefined> {
    try {
      await hostQuery(this.client(adbServer), 'host:version');
      return undefined;
    } catch (err) {
      return reason(err);
    }
  }

  /**
   * `adb connect` for a TCP device; a USB device or an emulator needs none. adb answers "already
   * connected" for a device it lists offline and leaves it so until its own retry, some 10 s
   * later: with `stale` (the device is known to have gone away) it is disconnected first.
   * Failures are left to the next look.
   */
  async reconnect(adbServer: string, serial: string, stale = false): Promise<void> {
    const target = tcpTarget(serial);
    if (!target) return;
    const client = this.client(adbServer);
    const id = `${target.host}:${target.port}`;
    // As host queries of our own, not adbkit's connect/disconnect: past the time limit the connection
    // is closed, where a call that is only raced would stay open to a server that never answers.
    if (stale) await hostQuery(client, `host:disconnect:${id}`).catch(() => undefined);
    await hostQuery(client, `host:connect:${id}`, ANSWER_MS * 2).catch(() => undefined);
  }
}

/** `work`, or a rejection once `ms` have passed; `onLate` then closes what the work holds. */
export function within<T>(work: PromiseLike<T>, ms: number, onLate?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onLate?.();
      reject(new Error(`no answer within ${ms / 1000} s`));
    }, ms);
  });
  const done = Promise.resolve(work);
  done.catch(() => undefined);
  return Promise.race([done, late]).finally(() => clearTimeout(timer));
}
