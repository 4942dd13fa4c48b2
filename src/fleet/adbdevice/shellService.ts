import type { CommandResult } from '../outcome.js';
import type { SimPhone } from '../sim/android.js';
import { parseScript, runShell, ShellAborted } from '../sim/shell.js';
import { installApk, installRequest } from './install.js';
import { ByteQueue } from './queue.js';
import { sessionRequest, type InstallSessions } from './sessions.js';
import type { AdbStream } from './transport.js';

/**
 * `shell:` (v1: a raw stream, no exit status), `shell,v2,…:` (the shell protocol: packets of an id
 * byte and a little-endian length; stdin 0, stdout 1, stderr 2, exit 3, close-stdin 4,
 * window-size 5) and `exec:` (raw, no pty). Commands run in the simulated phone's shell
 * (src/fleet/sim/shell.ts), whose output is stdout and stderr together, so all of it comes as
 * stdout. Besides the shell's own commands the device knows `cmd package install -S SIZE` and
 * `pm install` (the APK read from stdin, or from a file pushed before), the install sessions of
 * `install-multiple` (sessions.ts), `cmd package …` as `pm …`, and `reboot`. Without a command the shell is interactive: each line runs when it ends; with a
 * pty it echoes what is typed and shows a prompt.
 */

/** What a service needs of its device. */
export interface ShellHost {
  phone(): Promise<SimPhone>;
  /** Reboot once the current stream is closed. */
  reboot(): void;
  /** The package manager's install sessions on this device. */
  sessions: InstallSessions;
}

export interface Input {
  read(n: number): Promise<Buffer | undefined>;
  readSome(): Promise<Buffer | undefined>;
}

const ID_STDIN = 0;
const ID_STDOUT = 1;
const ID_EXIT = 3;
const ID_CLOSE_STDIN = 4;
/** Data bytes per shell packet: the smallest buffer hosts read them into. */
const PACKET_DATA = 4096 - 5;

/** Run one command line on the phone, with `stdin` for the commands that read it; `signal` stops it. */
export async function runCommand(host: ShellHost, script: string, stdin: Input, signal: AbortSignal): Promise<CommandResult> {
  const phone = await host.phone();
  let words: string[] | undefined;
  try {
    const steps = parseScript(script);
    if (steps.length === 1) words = steps[0]!.words;
  } catch {
    // runShell below answers the syntax error as the shell does.
  }
  if (words) {
    const install = installRequest(words);
    if (install) {
      if (install.streamedBytes !== undefined) {
        if (install.streamedBytes < 0) return { exitCode: 1, output: 'Error: -S needs a size in bytes\n' };
        const bytes = await stdin.read(install.streamedBytes);
        if (!bytes) return { exitCode: 1, output: 'Failure [INSTALL_FAILED_INTERNAL_ERROR: the APK ended early]\n' };
        return installApk(phone, bytes, install.flags);
      }
      if (!install.path) return { exitCode: 1, output: 'Error: no package specified\n' };
      const file = await phone.stat(install.path);
      if (file?.kind !== 'file') return { exitCode: 1, output: `Error: Unable to open file: ${install.path}\nConsider using a file under /data/local/tmp/\n` };
      return installApk(phone, file.content ?? Buffer.alloc(0), install.flags);
    }
    const session = sessionRequest(words);
    if (session) return host.sessions.run(phone, session, stdin);
    if (words[0] === 'reboot') {
      host.reboot();
      return { exitCode: 0, output: '' };
    }
  }
  try {
    return await runShell(phone, script.replace(/^\s*cmd\s+package\s+/, 'pm '), signal);
  } catch (err) {
    // The host is gone: nobody reads what the command printed.
    if (err instanceof ShellAborted) return { exitCode: 129, output: err.output };
    throw err;
  }
}

const toPty = (text: string) => text.replace(/\r?\n/g, '\r\n');

/** An interactive session: lines from `input` run one by one until `exit` or the end of input. */
async function interactive(host: ShellHost, input: Input, out: (text: string) => Promise<void>, pty: boolean, signal: AbortSignal): Promise<number> {
  const phone = await host.phone();
  const prompt = pty ? `${phone.properties()['ro.product.device'] ?? 'localhost'}:/ # ` : '';
  const noInput: Input = { read: async () => undefined, readSome: async () => undefined };
  let status = 0;
  let line = '';
  await out(prompt);
  for (;;) {
    const chunk = await input.readSome();
    if (!chunk) return status;
    for (const c of chunk.toString('utf8')) {
      if (c === '\x04' && line === '') return status;
      if (c === '\r' || c === '\n') {
        if (pty) await out('\r\n');
        const script = line;
        line = '';
        if (script.trim() === '') {
          await out(prompt);
          continue;
        }
        const r = await runCommand(host, script, noInput, signal);
        status = r.exitCode;
        await out(pty ? toPty(r.output) : r.output);
        if (/^\s*exit(\s|$)/.test(script)) return status;
        await out(prompt);
      } else if (c === '\x7f' || c === '\b') {
        if (line) {
          line = line.slice(0, -1);
          if (pty) await out('\b \b');
        }
      } else if (c === '\x03') {
        line = '';
        await out(`^C\r\n${prompt}`);
      } else {
        line += c;
        if (pty) await out(c);
      }
    }
  }
}

/** `shell:` with a command, and `exec:`: raw bytes both ways, closed when the command ends. */
export function rawService(host: ShellHost, command: string, pty: boolean) {
  return async (stream: AdbStream): Promise<void> => {
    if (command.trim() === '') {
      await interactive(host, stream, (t) => stream.write(t), pty, stream.signal);
      return;
    }
    const r = await runCommand(host, command, stream, stream.signal);
    await stream.write(pty ? toPty(r.output) : r.output);
  };
}

/** The shell protocol: stdin packets are read as they come, the output and the exit status sent as packets. */
export function shellV2Service(host: ShellHost, command: string, pty: boolean) {
  return async (stream: AdbStream): Promise<void> => {
    const stdin = new ByteQueue();
    void (async () => {
      for (;;) {
        const head = await stream.read(5);
        if (!head) break;
        const length = head.readUInt32LE(1);
        const data = length ? await stream.read(length) : Buffer.alloc(0);
        if (!data) break;
        if (head[0] === ID_STDIN) stdin.push(data);
        else if (head[0] === ID_CLOSE_STDIN) stdin.end();
      }
      stdin.end();
    })();
    const send = async (id: number, data: Buffer) => {
      for (let at = 0; at < data.length || (at === 0 && id === ID_EXIT); at += PACKET_DATA) {
        const part = data.subarray(at, at + PACKET_DATA);
        const head = Buffer.alloc(5);
        head[0] = id;
        head.writeUInt32LE(part.length, 1);
        await stream.write(Buffer.concat([head, part]));
        if (id === ID_EXIT) break;
      }
    };
    const out = (text: string) => send(ID_STDOUT, Buffer.from(pty ? toPty(text) : text, 'utf8'));
    let status: number;
    if (command.trim() === '') status = await interactive(host, stdin, out, pty, stream.signal);
    else {
      const r = await runCommand(host, command, stdin, stream.signal);
      await out(r.output);
      status = r.exitCode;
    }
    await send(ID_EXIT, Buffer.from([status & 0xff]));
  };
}
