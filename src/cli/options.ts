import { Option } from 'commander';
import { AUTH_MODES, CLOCK_MODES, DEFAULTS, FLEETS, type Config } from '../config.js';
import { parseAdbServer } from '../fleet/adb/servers.js';
import { MAX_TIMER_MS, TIME_LIMIT_KINDS, type TimeLimitKind, type TimeLimits } from '../domain/limits.js';
import { parseIsoInstant } from '../domain/time.js';
import { usableCores } from '../runtime/cores.js';

/** A parser for a flag that takes a whole number of at least `min` (and at most `max`). */
export const int = (name: string, min: number, max?: number) => (value: string) => {
  // Digits only: Number() would also take 0x10, 1e3 and spaces.
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || (max !== undefined && n > max)) {
    throw new Error(`--${name} must be a whole number ${max === undefined ? `≥ ${min}` : `from ${min} to ${max}`}, not "${value}"`);
  }
  return n;
};

/** A parser for a count of at least 1, or "auto": one per core this process can use (a container's CPU quota counts). */
export const countOrAuto = (name: string) => (value: string) => (value === 'auto' ? usableCores() : int(name, 1)(value));

/** Where the store is: `serve` and `admin` both take these. */
export const dataDirOption = () => new Option('--data-dir <dir>', 'where the SQLite database and objects live').env('OPENCPH_DATA_DIR').default(DEFAULTS.dataDir);
export const databaseOption = () => new Option('--database <url>', 'a postgres:// URL, or a SQLite file (default: <data-dir>/opencph.db)').env('OPENCPH_DATABASE_URL');

/** Flags for the identity seeded on first start; `serve` and `admin` both take them. */
export function identityOptions(): Option[] {
  return [
    new Option('--default-account <name>', 'account (IAM domain) created on first start').env('OPENCPH_DEFAULT_ACCOUNT').default(DEFAULTS.defaultAccount),
    new Option('--default-user <name>', 'user created on first start').env('OPENCPH_DEFAULT_USER').default(DEFAULTS.defaultUser),
    new Option('--default-password <password>', "that user's password").env('OPENCPH_DEFAULT_PASSWORD').default(DEFAULTS.defaultPassword),
    new Option('--default-ak <ak>', "that user's access key").env('OPENCPH_DEFAULT_AK').default(DEFAULTS.defaultAk),
    new Option('--default-sk <sk>', 'and its secret key').env('OPENCPH_DEFAULT_SK').default(DEFAULTS.defaultSk),
  ];
}

export function authOption(): Option {
  return new Option('--auth <mode>', 'verify: check AK/SK signatures and tokens; accept: take any well-formed one for the default project; off: no auth')
    .choices(AUTH_MODES)
    .env('OPENCPH_AUTH')
    .default(DEFAULTS.auth);
}

/** --clock and --clock-start: a virtual clock moves only when told (POST /_opencph/v1/{project_id}/clock/advance). */
export function clockOptions(): Option[] {
  return [
    new Option('--clock <mode>', 'real: the system clock; virtual: time moves only when told (POST /_opencph/v1/{project_id}/clock/advance); one node only')
      .choices(CLOCK_MODES)
      .env('OPENCPH_CLOCK')
      .default(DEFAULTS.clock),
    new Option('--clock-start <instant>', 'virtual clock: the ISO 8601 instant time starts at (default: where it stood when the store was last used, else now)')
      .env('OPENCPH_CLOCK_START')
      .argParser((value: string) => {
        if (parseIsoInstant(value) === undefined) throw new Error(`--clock-start must be an ISO 8601 date-time with a zone (2030-01-01T00:00:00Z), not "${value}"`);
        return value;
      }),
  ];
}

export function clockConfig(opts: Record<string, unknown>): Pick<Config, 'clock' | 'clockStart'> {
  return { clock: opts.clock as Config['clock'], clockStart: opts.clockStart as string | undefined };
}

type IdentityConfig = Pick<Config, 'defaultAccount' | 'defaultUser' | 'defaultPassword' | 'defaultAk' | 'defaultSk'>;

export function identityConfig(opts: Record<string, unknown>): IdentityConfig {
  return {
    defaultAccount: opts.defaultAccount as string,
    defaultUser: opts.defaultUser as string,
    defaultPassword: opts.defaultPassword as string,
    defaultAk: opts.defaultAk as string,
    defaultSk: opts.defaultSk as string,
  };
}

const TIME_LIMITED: Record<TimeLimitKind, string> = {
  shell: 'an adb shell command (a sync command: the smaller of this and 2 s)',
  install: 'an install or install-multiple',
  push: 'a push',
  uninstall: 'an uninstall',
  operation: 'a phone restart, reset, stop or property update, or a server restart',
};

/** --shell-time-limit and the like; timers take at most 2^31 - 1 ms. */
export function timeLimitOptions(): Option[] {
  return TIME_LIMIT_KINDS.map((kind) =>
    new Option(`--${kind}-time-limit <ms>`, `how long ${TIME_LIMITED[kind]} may run; past it the job fails with CPS.0904 and the output so far`)
      .env(`OPENCPH_${kind.toUpperCase()}_TIME_LIMIT_MS`)
      .default(DEFAULTS.timeLimits[kind])
      .argParser(int(`${kind}-time-limit`, 1, MAX_TIMER_MS)),
  );
}

export function timeLimitConfig(opts: Record<string, unknown>): TimeLimits {
  return Object.fromEntries(TIME_LIMIT_KINDS.map((kind) => [kind, opts[`${kind}TimeLimit`] as number])) as Record<TimeLimitKind, number>;
}

/** How long a client may take to send a request, and keep an idle connection (see README, Limits and time-outs). */
export function httpTimeoutOptions(): Option[] {
  return [
    new Option('--headers-timeout <ms>', 'a request whose headers have not all arrived by then answers 408 and its connection closes')
      .env('OPENCPH_HEADERS_TIMEOUT_MS')
      .default(DEFAULTS.headersTimeoutMs)
      .argParser(int('headers-timeout', 100, MAX_TIMER_MS)),
    new Option('--request-timeout <ms>', 'a request (headers and body) not received in full by then answers 408 and its connection closes')
      .env('OPENCPH_REQUEST_TIMEOUT_MS')
      .default(DEFAULTS.requestTimeoutMs)
      .argParser(int('request-timeout', 100, MAX_TIMER_MS)),
    new Option('--keep-alive-timeout <ms>', 'an idle connection between two requests closes after this')
      .env('OPENCPH_KEEP_ALIVE_TIMEOUT_MS')
      .default(DEFAULTS.keepAliveTimeoutMs)
      .argParser(int('keep-alive-timeout', 100, MAX_TIMER_MS)),
  ];
}

export function httpTimeoutConfig(opts: Record<string, unknown>): Pick<Config, 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs'> {
  return { headersTimeoutMs: opts.headersTimeout as number, requestTimeoutMs: opts.requestTimeout as number, keepAliveTimeoutMs: opts.keepAliveTimeout as number };
}

/** An adb server's `host:port`, checked. */
export function adbServerArg(name: string) {
  return (value: string) => {
    if (!parseAdbServer(value)) throw new Error(`--${name} must be host:port (an adb server, e.g. 127.0.0.1:5037), not "${value}"`);
    return value;
  };
}

/** --fleet and --adb-server (repeatable; OPENCPH_ADB_SERVERS takes a comma-separated list). */
export function fleetOptions(): Option[] {
  const check = adbServerArg('adb-server');
  return [
    new Option('--fleet <kind>', 'sim: simulated phones; adb: real devices behind adb servers, mapped with `opencph admin devices`').choices(FLEETS).env('OPENCPH_FLEET').default(DEFAULTS.fleet),
    new Option('--adb-server <host:port>', `with --fleet adb: an adb server the jobs talk to, repeatable (default ${DEFAULTS.adbServers.join(', ')})`)
      .env('OPENCPH_ADB_SERVERS')
      .argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), ...value.split(',').map((v) => check(v.trim()))]),
  ];
}

export function fleetConfig(opts: Record<string, unknown>): Partial<Pick<Config, 'fleet' | 'adbServers'>> {
  const adbServers = opts.adbServer as string[] | undefined;
  return { fleet: opts.fleet as Config['fleet'], ...(adbServers?.length ? { adbServers: [...new Set(adbServers)] } : {}) };
}
