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
  /** Writes the lines gathered so far (a node closing). */
  flush(): void;
}

/** Access lines are written in blocks of up to this many bytes (one write takes at most 16 KiB)… */
const ACCESS_BLOCK_BYTES = 16_000;
/** …and at least this often, so that the lines of a quiet node still show at once. */
export const ACCESS_FLUSH_MS = 250;

/** Access logs in this process: flushed when it exits, however it exits (short of being killed). */
const gathering = new Set<{ flushSync(): void }>();
let flushedOnExit = false;

/**
 * Access lines to `dest` (a file descriptor or path; stdout by default), gathered and written in
 * blocks: one write per line to a log file took about a tenth of a ListJobs' CPU under load. The
 * lines of the last quarter second are lost if the process is killed outright (SIGKILL, out of
 * memory); every other line (errors, batches submitted, starts and stops) is written at once.
 */
export function createAccessLog(level: string, dest: number | string = 1): AccessLog {
  const out = pino.destination({ dest, sync: true, minLength: ACCESS_BLOCK_BYTES });
  gathering.add(out);
  if (!flushedOnExit) {
    flushedOnExit = true;
    process.on('exit', () => {
      for (const o of gathering) o.flushSync();
    });
  }
  const timer = setInterval(() => out.flushSync(), ACCESS_FLUSH_MS).unref();
  return {
    logger: pino({ level }, out),
    flush: () => {
      clearInterval(timer);
      out.flushSync();
    },
  };
}

/** Access lines beside `log`, through its own destination, written as they come (tests, embedding). */
export function accessLogBeside(log: Logger): AccessLog {
  return { logger: log.child({}, { redact: [] }), flush: () => undefined };
}
