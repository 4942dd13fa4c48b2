import type { Duplex } from 'node:stream';
import type { DeviceClient } from '@devicefarmer/adbkit';
import type { CommandResult } from '../outcome.js';
import { hostQuery, request } from './servers.js';

/** The device's connection ended before the command's exit status came. Carries the output so far. */
export class DeviceLost extends Error {
  constructor(readonly output: string) {
    super('the connection to the device ended before the command finished');
  }
}

/** The job's signal stopped the command. Carries the output so far. */
export class CommandCut extends Error {
  constructor(readonly output: string) {
    super('the command was stopped');
  }
}

/** A word the device's /system/bin/sh takes literally. */
export function shQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** What ends a v1 shell's output: the script's exit status follows it. */
const MARKER = '__OPENCPH_EXIT_';

/**
 * Run `script` on the device and answer its exit status and output (stdout then stderr as they
 * come). A device whose adbd speaks the shell protocol (feature `shell_v2`, Android 7 and later)
 * says the exit status itself; an older one runs `script; echo <marker>$?` and the status is read
 * off the end of the output.
 */
export async function runShell(device: DeviceClient, script: string, signal: AbortSignal): Promise<CommandResult> {
  return (await transportFeatures(device)).has('shell_v2') ? shellV2(device, script, signal) : shellV1(device, script, signal);
}

/**
 * What the device's adbd and the adb server both speak (`adb features`: shell_v2, cmd, …), asked
 * of the server (`host-serial:<serial>:features`). adbkit's getFeatures lists Android's
 * package-manager features instead.
 */
export async function transportFeatures(device: DeviceClient): Promise<Set<string>> {
  return new Set((await hostQuery(device.client, `host-serial:${device.serial}:features`)).split(',').filter(Boolean));
}

/** Read a stream to its end, or until `signal` aborts; `onData` sees every chunk. */
function drain(stream: Duplex, signal: AbortSignal, onData: (chunk: Buffer) => void): Promise<'ended' | 'cut'> {
  return new Promise((resolve) => {
    const done = (how: 'ended' | 'cut') => {
      signal.removeEventListener('abort', onAbort);
      stream.removeAllListeners('data');
      resolve(how);
    };
    const onAbort = () => {
      stream.destroy();
      done('cut');
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    stream.on('data', onData);
    stream.once('end', () => done('ended'));
    stream.once('close', () => done('ended'));
    stream.once('error', () => done('ended'));
  });
}

async function shellV1(device: DeviceClient, script: string, signal: AbortSignal): Promise<CommandResult> {
  const stream = await device.shell(`${script}; echo ${MARKER}$?`);
  const chunks: Buffer[] = [];
  const how = await drain(stream, signal, (c) => chunks.push(c));
  const text = Buffer.concat(chunks).toString('utf8');
  const m = new RegExp(`${MARKER}(\\d+)\\r?\\n?$`).exec(text);
  const output = m ? text.slice(0, m.index) : text;
  if (how === 'cut') throw new CommandCut(output);
  if (!m) throw new DeviceLost(output);
  return { exitCode: Number(m[1]), output };
}

/** The shell protocol: packets of an id byte (1 stdout, 2 stderr, 3 exit status), a length (u32 LE) and the data. */
async function shellV2(device: DeviceClient, script: string, signal: AbortSignal): Promise<CommandResult> {
  const conn = await device.transport();
  conn.write(request(`shell,v2,raw:${script}`));
  // A device slow to open the stream must not hold the job past its time limit.
  const onAbort = () => conn.end();
  signal.addEventListener('abort', onAbort, { once: true });
  let reply: string;
  try {
    reply = await conn.parser.readAscii(4);
  } catch (err) {
    if (signal.aborted) throw new CommandCut('');
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (reply !== 'OKAY') await conn.parser.readError();
  const stream = conn.parser.raw();
  const out: Buffer[] = [];
  let pending = Buffer.alloc(0);
  let exitCode: number | undefined;
  const how = await drain(stream, signal, (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 5) {
      const size = pending.readUInt32LE(1);
      if (pending.length < 5 + size) break;
      const id = pending[0];
      const data = pending.subarray(5, 5 + size);
      pending = pending.subarray(5 + size);
      if (id === 1 || id === 2) out.push(data);
      else if (id === 3 && data.length > 0) exitCode = data[0];
    }
    if (exitCode !== undefined) stream.end();
  });
  conn.end();
  const output = Buffer.concat(out).toString('utf8');
  if (exitCode !== undefined) return { exitCode, output };
  if (how === 'cut') throw new CommandCut(output);
  throw new DeviceLost(output);
}
