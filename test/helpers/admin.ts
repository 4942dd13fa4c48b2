import type { Command } from 'commander';
import { adminCommand } from '../../src/cli/admin.js';
import { storeOf } from './node.js';

/** A refused option or argument throws (with commander's message) rather than exiting, at every level of verbs. */
function throwing(cmd: Command): Command {
  cmd.exitOverride().configureOutput({ writeErr: () => {} });
  for (const sub of cmd.commands) throwing(sub);
  return cmd;
}

/** Run `opencph admin --data-dir <dir> [--database <url>] …args` in this process; its output lines. */
export async function admin(dataDir: string, ...args: string[]): Promise<string[]> {
  const database = await storeOf(dataDir);
  const lines: string[] = [];
  await throwing(adminCommand((line) => lines.push(line))).parseAsync(['--data-dir', dataDir, ...(database ? ['--database', database] : []), ...args], { from: 'user' });
  return lines;
}
