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
 * The most a write to a pipe carries: PIPE_BUF on Linux, the size up to which a pipe takes a write
 * whole, never mixed with another process's (the API processes of a node share its stdout).
 */
export const PIPE_WRITE_BYTES = 4096;
/** How many milliseconds a write waits for a full pipe's reader before the lines are dropped. */
const PIPE_FULL_WAITS = 10_000;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Access lines beside `log`, to the file descriptor `fd` (stdout, where `log` writes, by default),
 * each built here in pino's format (a test holds them to what the node's logger writes: the fields
 * are known, so only the strings need JSON's escaping; pino builds a line in 1 µs against 0.5 here).
 * Written one by one, as pino writes, the lines cost a write call per request: with the log in a
 * file and two API processes under load 15% of the server's CPU per ListJobs, and to a terminal or
 * a pipe a third of a ListJobs' throughput. So they are gathered:
 * - to a regular file, in blocks of ACCESS_BLOCK_CHARS, written at least every ACCESS_FLUSH_MS
 *   (a file never makes a writer wait for a reader). Gathering them in pino's own destination
 *   (sonic-boom with a minimum length) cost another 9%: it measures the pending block's byte length
 *   on every line;
 * - to a pipe, a socket or a terminal (journald, docker, a shell), the lines of one turn of the
 *   event loop are written at its end, in writes of whole lines of at most PIPE_WRITE_BYTES, so
 *   that lines of several processes never mix; a reader that is not keeping up holds the node up
 *   no longer than one write per line would have.
 * Either way the lines are also written when the node closes and when the process exits, also
 * after an uncaught error; a process killed by a signal it does not handle (SIGKILL, out of memory)
 * loses those not yet written (at most a quarter second of them to a file, one turn's to a pipe).
 */
export function createAccessLog(log: Logger, fd = 1): AccessLog {
  if (!log.isLevelEnabled('info')) return { write: () => undefined, close: () => undefined };
  const kind = kindOf(fd);
  if (kind === undefined) return accessLogBeside(log);
  // What pino puts before and after a line's own fields (its default base: pid and hostname).
  const head = `{"level":${log.levels.values.info},"time":`;
  const base = `,"pid":${process.pid},"hostname":${JSON.stringify(hostname())}`;
  let block: string[] = [];
  let chars = 0;
  let failed = false;
  const writeAll = (text: string) => {
    const bytes = Buffer.from(text);
    // A file takes a whole write unless it cannot grow (a size limit, a nearly full disk); a pipe may
    // take part of one, or none while it is full if it was opened non-blocking (as Node opens a
    // stdout pipe once process.stdout is used): then the write is tried again, as pino's does.
    for (let done = 0, waits = 0; done < bytes.length; ) {
      try {
        done += fs.writeSync(fd, bytes, done);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || ++waits > PIPE_FULL_WAITS) throw err;
        Atomics.wait(pause, 0, 0, 1);
      }
    }
  };
  const writeLines = (lines: string[]) => {
    if (kind === 'file') return writeAll(lines.join(''));
    let chunk = '';
    let size = 0;
    for (const line of lines) {
      const n = Buffer.byteLength(line);
      if (size + n > PIPE_WRITE_BYTES && size > 0) {
        writeAll(chunk);
        chunk = '';
        size = 0;
      }
      chunk += line;
      size += n;
    }
    writeAll(chunk);
  };
  const flush = () => {
    scheduled = false;
    if (block.length === 0) return;
    const lines = block;
    block = [];
    chars = 0;
    try {
      writeLines(lines);
    } catch (err) {
      // The rest of the lines are dropped, and said once through the node's logger, rather than
      // thrown into whichever request completed the block.
      if (!failed) log.error({ err }, 'request lines could not be written to the log');
      failed = true;
    }
  };
  let scheduled = false;
  const timer = kind === 'file' ? setInterval(flush, ACCESS_FLUSH_MS).unref() : undefined;
  process.on('exit', flush);
  let closed = false;
  return {
    write(e) {
      const line = `${head}${Date.now()}${base},"reqId":${JSON.stringify(e.reqId)},"method":${JSON.stringify(e.method)},"path":${JSON.stringify(e.path)},"status":${e.status},"ms":${e.ms},"msg":"request"}\n`;
      block.push(line);
      chars += line.length;
      if (closed || (kind === 'file' && chars >= ACCESS_BLOCK_CHARS)) flush();
      else if (kind === 'stream' && !scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    close() {
      clearInterval(timer);
      process.off('exit', flush);
      closed = true;
      flush();
    },
  };
}

/** Where a file descriptor writes: a regular file, a stream (pipe, socket, terminal), or neither known. */
function kindOf(fd: number): 'file' | 'stream' | undefined {
  try {
    const st = fs.fstatSync(fd);
    if (st.isFile()) return 'file';
    if (st.isFIFO() || st.isSocket() || st.isCharacterDevice()) return 'stream';
    return undefined;
  } catch {
    return undefined;
  }
}

/** Access lines through `log`'s own destination, written as they come (tests, a destination of unknown kind). */
export function accessLogBeside(log: Logger): AccessLog {
  const lines = log.child({}, { redact: [] });
  return { write: (entry) => lines.info(entry, 'request'), close: () => undefined };
}
