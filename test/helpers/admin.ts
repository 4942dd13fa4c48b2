import { adminCommand } from '../../src/cli/admin.js';
import { storeOf } from './node.js';

/** Run `opencph admin --data-dir <dir> [--database <url>] …args` in this process; its output lines. */
export async function admin(dataDir: string, ...args: string[]): Promise<string[]> {
  const database = await storeOf(dataDir);
  const lines: string[] = [];
  await adminCommand((line) => lines.push(line))
    .exitOverride()
    .parseAsync(['--data-dir', dataDir, ...(database ? ['--database', database] : []), ...args], { from: 'user' });
  return lines;
}
