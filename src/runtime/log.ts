import fs from 'node:fs';
import { hostname } from 'node:os';
import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Credentials never reach the log: these paths are censored wherever a request, its headers or an
 * identity object is logged. (Request bodies are never logged at all.)
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-auth-token"]',
  'req.headers["x-subject-token"]',
  'req.headers["x-security-token"]',
  'res.headers["x-subject-token"]',
  'headers.authorization',
  'headers["x-auth-token"]',
  'headers["x-subject-token"]',
  'headers["x-security-token"]',
  'password',
  '*.password',
  'secretKey',
  '*.secretKey',
  'secret_key',
  '*.secret_key',
  'sk',
  '*.sk',
  'token',
  '*.token',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

/** The one line per answered request: method, path, status, time (nothing to redact). */
export interface AccessEntry {
  reqId: string;
  method: string;
  path: string;
  status: number;
  /** Milliseconds, to a tenth (tenthsOfMs). */
  ms: number;
}

/** A duration in milliseconds as request lines show it: to a tenth. */
export const tenthsOfMs = (ms: number): number => Math.round(ms * 10) / 10;

export interface AccessLog {
  write(entry: AccessEntry): void;
  /** Writes the lines gathered so far, and any later ones as they come (a node closing). */
  close(): void;
}

/** Access lines to a log file are written once this many characters have gathered… */
const ACCESS_BLOCK_CHARS = 16_000;
/** …and at least this often, so that the lines of a quiet node still show at once. */
export const ACCESS_FLUSH_MS = 250;

/**
 * Access lines beside `log`, to the file descriptor `fd` (stdout, where `log` writes, by default).
 * When it is a regular file, each line is built here, in pino's format, and the lines are gathered
 * and written in blocks. With the log in a file and two API processes under load, one write per
 * line cost 15% of the server's CPU per ListJobs. Gathering the lines in pino's own destination
 * (sonic-boom with a minimum length) cost another 9%: it measures the pending block's byte length
 * on every line, about 3 µs a line, and pino builds a line in 1 µs against 0.5 here. The fields
 * are known, so only the strings need JSON's escaping; a test holds the lines to what the node's
 * logger writes.
 * The blocks are written on the event loop (a file never makes a writer wait for a reader), at
 * least every ACCESS_FLUSH_MS, when the node closes and when the process exits, also after an
 * uncaught error; a process killed by a signal it does not handle (SIGKILL, out of memory) loses
 * up to its last quarter second of them. To a pipe or a terminal (journald, docker, a shell), where
 * a block could stall the node behind a slow reader or mix with another process's lines past
 * 4 KiB, each line is written as it comes, through `log`, as every other line is.
 */
export function createAccessLog(log: Logger, fd = 1): AccessLog {
  if (!isFile(fd) || !log.isLevelEnabled('info')) return accessLogBeside(log);
  // What pino puts before and after a line's own fields (its default base: pid and hostname).
  const head = `{"level":${log.levels.values.info},"time":`;
  const base = `,"pid":${process.pid},"hostname":${JSON.stringify(hostname())}`;
  let block: string[] = [];
  let chars = 0;
  let failed = false;
  const flush = () => {
    if (block.length === 0) return;
    const bytes = Buffer.from(block.join(''));
    block = [];
    chars = 0;
    try {
      // A file takes a whole write unless it cannot grow (a size limit, a nearly full disk).
      for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done);
    } catch (err) {
      // The rest of the block is dropped, and said once through the node's logger, rather than
      // thrown into whichever request completed the block.
      if (!failed) log.error({ err }, 'request lines could not be written to the log');
      failed = true;
    }
  };
  const timer = setInterval(flush, ACCESS_FLUSH_MS).unref();
  process.on('exit', flush);
  let closed = false;
  return {
    write(e) {
      const line = `${head}${Date.now()}${base},"reqId":${JSON.stringify(e.reqId)},"method":${JSON.stringify(e.method)},"path":${JSON.stringify(e.path)},"status":${e.status},"ms":${e.ms},"msg":"request"}\n`;
      block.push(line);
      chars += line.length;
      if (chars >= ACCESS_BLOCK_CHARS || closed) flush();
    },
    close() {
      clearInterval(timer);
      process.off('exit', flush);
      closed = true;
      flush();
    },
  };
}

function isFile(fd: number): boolean {
  try {
    return fs.fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

/** Access lines through `log`'s own destination, written as they come (a pipe or a terminal, tests). */
export function accessLogBeside(log: Logger): AccessLog {
  const lines = log.child({}, { redact: [] });
  return { write: (entry) => lines.info(entry, 'request'), close: () => undefined };
}
