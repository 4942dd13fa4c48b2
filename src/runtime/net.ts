import { createServer, type AddressInfo } from 'node:net';

/** The URL a server listening on `host` and `port` answers at (an IPv6 host in brackets). */
export const httpUrl = (host: string, port: number): string => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

/**
 * A port free on `host` at the time of asking. Another program could take it before the caller
 * listens on it; the caller's start then fails as with a port in use.
 */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
