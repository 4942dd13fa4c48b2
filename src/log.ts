import { fstatSync } from 'node:fs';
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

/** The one line per answered request (method, path, status, time: nothing to redact). */
export interface AccessLog {
  logger: Logger;
  /** Writes the lines gathered so far, and any later ones as they come (a node closing). */
  close(): void;
}

/** Access lines to a log file are written once this many bytes have gathered (a write takes ≤ 16 KiB)… */
const ACCESS_BLOCK_BYTES = 16_000;
/** …and at least this often, so that the lines of a quiet node still show at once. */
export const ACCESS_FLUSH_MS = 250;

/**
 * Access lines beside `log`, to the file descriptor `fd` (stdout, where `log` writes, by default).
 * When it is a regular file, the lines are gathered and written in blocks: with the log in a file
 * and two API processes under load, one write per line cost 15% of the server's CPU per ListJobs.
 * The blocks are written on the event loop (a file never makes a writer wait for a reader), at
 * least every ACCESS_FLUSH_MS, when the node closes and when the process exits, also after an
 * uncaught error; a process killed by a signal it does not handle (SIGKILL, out of memory) loses
 * up to its last quarter second of them. To a pipe or a terminal (journald, docker, a shell),
 * where a block could stall the node behind a slow reader or mix with another process's lines
 * past 4 KiB, each line is written as it comes, through `log`, as every other line is.
 */
export function createAccessLog(log: Logger, fd = 1): AccessLog {
  if (!isFile(fd)) return accessLogBeside(log);
  const out = pino.destination({ fd, sync: true, minLength: ACCESS_BLOCK_BYTES });
  // In sync mode flush() writes at once (flushSync would also fsync the file).
  const write = () => out.flush();
  const timer = setInterval(write, ACCESS_FLUSH_MS).unref();
  process.on('exit', write);
  return {
    logger: pino({ level: log.level }, out),
    close: () => {
      clearInterval(timer);
      process.off('exit', write);
      write();
      // Lines logged after the close are written as they come (minLength is sonic-boom's own option).
      (out as unknown as { minLength: number }).minLength = 0;
    },
  };
}

function isFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

/** Access lines through `log`'s own destination, written as they come (tests, a level above info). */
export function accessLogBeside(log: Logger): AccessLog {
  return { logger: log.child({}, { redact: [] }), close: () => undefined };
}
