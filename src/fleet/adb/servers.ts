import * as adbkit from '@devicefarmer/adbkit';
import type { Client, Device } from '@devicefarmer/adbkit';

// A CommonJS package: Node finds its classes on the default export, a bundler (vitest) by name.
const found = adbkit as unknown as { Adb?: typeof adbkit.Adb; default?: { Adb?: typeof adbkit.Adb } };
const Adb = (found.Adb ?? found.default?.Adb)!;

/** Where an adb server listens, `host:port`; the default is adb's own. */
export const DEFAULT_ADB_SERVER = '127.0.0.1:5037';

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

/** One adbkit client per adb server, made on first use. */
export class AdbServers {
  private readonly clients = new Map<string, Client>();

  client(adbServer: string): Client {
    let client = this.clients.get(adbServer);
    if (!client) {
      const address = parseAdbServer(adbServer);
      if (!address) throw new Error(`"${adbServer}" is not host:port`);
      client = Adb.createClient({ host: address.host, port: address.port });
      this.clients.set(adbServer, client);
    }
    return client;
  }

  /** The device's state on its server (`device`, `offline`, `unauthorized`, …), or undefined when the server does not list it. */
  async state(adbServer: string, serial: string): Promise<string | undefined> {
    const list: Device[] = await this.client(adbServer).listDevices();
    return list.find((d) => d.id === serial)?.type;
  }

  /** `adb connect` for a TCP device; a USB device or an emulator needs none. Failures are left to the next look. */
  async reconnect(adbServer: string, serial: string): Promise<void> {
    const target = tcpTarget(serial);
    if (!target) return;
    await this.client(adbServer)
      .connect(target.host, target.port)
      .catch(() => undefined);
  }
}
