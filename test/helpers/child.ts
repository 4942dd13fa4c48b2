import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { request, type Reply } from './http.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface ChildNode {
  proc: ChildProcess;
  url: string;
  output(): string;
  get<T = any>(path: string): Promise<Reply<T>>;
  post<T = any>(path: string, body: unknown): Promise<Reply<T>>;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
}

/**
 * `opencph serve` as a real child process (the built CLI), on a free port, with authentication off
 * unless `args` say otherwise; resolves once it listens (or, for a worker-only node, once it says it
 * runs jobs; `url` is then empty).
 */
export async function startChild(args: string[], env: Record<string, string> = {}): Promise<ChildNode> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does).`);
  const proc = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--auth', 'off', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 20 s:\n${out}`)), 20_000);
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m || /worker \S+ is running jobs/.test(out)) {
        clearTimeout(timer);
        resolve(m ? m[1]! : '');
      }
    };
    proc.stdout!.on('data', check);
    void exited.then(() => reject(new Error(`exited before listening:\n${out}`)));
  });
  const abs = (path: string) => (path.startsWith('/v') ? url + path : `${url}/v1/0123456789abcdef0123456789abcdef/cloud-phone${path}`);
  return {
    proc,
    url,
    output: () => out,
    exited,
    get: (path) => request(abs(path), 'GET'),
    post: (path, body) => request(abs(path), 'POST', { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  };
}
