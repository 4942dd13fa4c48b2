import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built CLI (`npm run build`; `npm test` builds it first). */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `opencph …args` as a user runs it: the built CLI, a child process, its own HOME and no OPENCPH_*
 * of ours; `input` goes to its stdin (closed at once without it).
 */
export function cli(home: string, args: string[], env: Record<string, string> = {}, input = ''): Promise<CliRun> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does).`);
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OPENCPH_') && k !== 'XDG_CONFIG_HOME'));
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { env: { ...clean, HOME: home, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}
