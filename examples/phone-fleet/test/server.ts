import { startOpenCph, type OpenCph, type OpenCphOptions } from 'opencph';
import { afterEach } from 'vitest';
import { CphClient } from '../src/cph.js';

/** A fresh OpenCPH for each test (in memory; by default one server of four phones), closed after it. */
export function serverPerTest(): (options?: OpenCphOptions) => Promise<{ server: OpenCph; client: CphClient; phones: string[] }> {
  let server: OpenCph | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  return async (options = {}) => {
    server = await startOpenCph(options);
    // Our client signs in as the server's default user.
    const client = await CphClient.login(server);
    const phones = (await client.listPhones()).phones.map((p) => p.phone_id);
    return { server, client, phones };
  };
}

/** Poll `check` (every 20 ms) until it answers something other than undefined. */
export async function until<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
