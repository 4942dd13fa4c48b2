import { Errors } from '../../domain/errors.js';
import { formatProperty, mergeProperty, type Properties } from '../../domain/property.js';
import { PhoneStatus, ServerStatus, phoneStatusName, serverStatusName } from '../../domain/status.js';
import { ADB_OPERATIONS, type PhoneCommand } from '../../domain/commands.js';
import type { FleetEffects, Phone } from '../../domain/fleet.js';
import { timeLimitReached, type Driver, type DriverContext, type DriverJob, type DriverOutcome } from '../driver.js';
import { timedOutOutcome } from '../outcome.js';
import { runAdb } from './adb.js';
import { SimPhone } from './android.js';
import { SIM_HANDLERS, type SimEnv } from './handlers.js';
import type { AndroidState } from './state.js';

export interface SimOptions {
  /** Base duration of one simulated operation in ms; each operation takes a multiple of it. 0 = instant. */
  delayMs: number;
  /** Where the simulated phones keep their state. */
  state: AndroidState;
  /** The local stand-in for OBS: one folder per bucket. */
  obsDir: string;
  /** When set, every execution is recorded (which worker ran which job, from when to when). */
  journal?: SimJournal;
}

export interface SimJournal {
  start(run: { jobId: string; worker: string; operation: string; phoneId: string | null; serverId: string | null; at: number }): Promise<number>;
  end(runId: number, at: number): Promise<void>;
}

/** How many base delays each operation takes: a reset is slower than a stop, a server reboot slowest. */
const WEIGHT: Record<string, number> = {
  'phone.restart': 3,
  'phone.reset': 5,
  'phone.stop': 2,
  'server.restart': 8,
  'phone.update-property': 1,
  'phone.install': 2,
  'phone.uninstall': 1,
  'phone.push': 2,
  'phone.shell': 0.1,
};

/**
 * Power actions: the state a phone shows while one runs, and the one it is left in when the action
 * does not finish within its time limit (a later restart or reset may start from it).
 */
const POWER = {
  'phone.restart': { during: PhoneStatus.Restarting, failed: PhoneStatus.RestartFailed },
  'phone.reset': { during: PhoneStatus.Resetting, failed: PhoneStatus.ResetFailed },
  'phone.stop': { during: PhoneStatus.Stopping, failed: PhoneStatus.StopFailed },
} as const;

export const NOT_FROZEN = [PhoneStatus.Running, PhoneStatus.Stopped, PhoneStatus.ResetFailed, PhoneStatus.RestartFailed, PhoneStatus.Abnormal, PhoneStatus.StopFailed];

/** Phone states an operation may start from. In-between states never reach here (jobs on a phone run one at a time). */
export const ALLOWED_FROM: Record<string, readonly number[]> = {
  'phone.restart': NOT_FROZEN,
  'phone.reset': NOT_FROZEN,
  'phone.stop': [PhoneStatus.Running, PhoneStatus.RestartFailed, PhoneStatus.Abnormal, PhoneStatus.StopFailed],
  // A phone that is not running keeps new properties for when it runs again.
  'phone.update-property': NOT_FROZEN,
  ...Object.fromEntries([...ADB_OPERATIONS].map((op) => [op, [PhoneStatus.Running]])),
};

export const VERB: Record<string, string> = {
  'phone.restart': 'restart',
  'phone.reset': 'reset',
  'phone.stop': 'stop',
  'phone.update-property': 'take new properties',
  ...Object.fromEntries([...ADB_OPERATIONS].map((op) => [op, 'run adb commands'])),
};

const fail = (entry: { code: string; message: string }, detail: string): DriverOutcome => ({
  ok: false,
  errorCode: entry.code,
  errorMsg: `${entry.message} ${detail}`,
});

/** Simulated phones and servers: each operation takes time and moves statuses as CPH's do. */
export class SimDriver implements Driver {
  readonly name = 'sim';

  private readonly env: SimEnv;

  constructor(private readonly options: SimOptions) {
    this.env = { options, work: (ctx, weight, transition) => this.wait(ctx, options.delayMs * weight, transition) };
  }

  async run(job: DriverJob, ctx: DriverContext): Promise<DriverOutcome> {
    const journal = this.options.journal;
    if (!journal) return this.execute(job, ctx);
    const runId = await journal.start({
      jobId: job.jobId,
      worker: ctx.worker,
      operation: job.operation,
      phoneId: job.phone?.phoneId ?? null,
      serverId: job.server?.serverId ?? null,
      at: ctx.clock.now(),
    });
    const outcome = await this.execute(job, ctx);
    await journal.end(runId, ctx.clock.now());
    return outcome;
  }

  private async execute(job: DriverJob, ctx: DriverContext): Promise<DriverOutcome> {
    const handler = SIM_HANDLERS[job.operation];
    if (handler) return handler(job, ctx, this.env);
    if (job.operation === 'server.restart') return this.restartServer(job, ctx);
    const phone = job.phone;
    const server = job.server;
    if (!phone || !server) return fail(Errors.phoneNotFound, 'The phone no longer exists.');
    if (server.status !== ServerStatus.Normal) {
      return fail(Errors.serverNotAvailable, `Server ${server.serverId} is ${serverStatusName(server.status)} (status ${server.status}).`);
    }
    const allowed = ALLOWED_FROM[job.operation];
    if (!allowed) return fail(Errors.internal, `Operation ${job.operation} is not supported by the simulated fleet.`);
    if (!allowed.includes(settledStatus(phone.status))) {
      return fail(
        Errors.phoneNotAvailable,
        `Phone ${phone.phoneId} is ${phoneStatusName(phone.status)} (status ${phone.status}); it cannot ${VERB[job.operation]}.`,
      );
    }
    if (ADB_OPERATIONS.has(job.operation)) {
      await this.work(job.operation, ctx);
      const sim = await SimPhone.load(this.options.state, phone, ctx.clock);
      return runAdb(sim, job.params.command as PhoneCommand, { obsDir: this.options.obsDir, signal: ctx.signal });
    }
    if (job.operation === 'phone.update-property') {
      await this.work(job.operation, ctx);
      return { ok: true, effects: { phones: [finalPhoneState(job.operation, phone, job.params)] } };
    }
    const op = job.operation as keyof typeof POWER;
    const cut = await withinLimit(ctx, this.work(op, ctx, { phones: [{ phoneId: phone.phoneId, status: POWER[op].during }] }), {
      phones: [{ phoneId: phone.phoneId, status: POWER[op].failed }],
    });
    if (cut) return cut;
    // A factory reset also drops what the user put on the phone: apps, files under /data, settings.
    if (job.operation === 'phone.reset') await (await SimPhone.load(this.options.state, phone, ctx.clock)).wipe();
    return { ok: true, effects: { phones: [finalPhoneState(job.operation, phone, job.params)] } };
  }

  private async restartServer(job: DriverJob, ctx: DriverContext): Promise<DriverOutcome> {
    const server = job.server;
    if (!server) return fail(Errors.batchInvalidServerId, 'The server no longer exists.');
    if (server.status !== ServerStatus.Normal && server.status !== ServerStatus.Abnormal && server.status !== ServerStatus.Starting) {
      return fail(Errors.serverNotAvailable, `Server ${server.serverId} is ${serverStatusName(server.status)} (status ${server.status}); it cannot restart.`);
    }
    const phones = (job.serverPhones ?? []).filter((p) => p.status !== PhoneStatus.Frozen);
    const working = this.work(job.operation, ctx, {
      servers: [{ serverId: server.serverId, status: ServerStatus.Starting }],
      phones: phones.map((p) => ({ phoneId: p.phoneId, status: PhoneStatus.Restarting })),
    });
    const cut = await withinLimit(ctx, working, {
      servers: [{ serverId: server.serverId, status: ServerStatus.Abnormal }],
      phones: phones.map((p) => ({ phoneId: p.phoneId, status: PhoneStatus.RestartFailed })),
    });
    if (cut) return cut;
    return {
      ok: true,
      effects: {
        servers: [{ serverId: server.serverId, status: ServerStatus.Normal }],
        phones: phones.map((p) => ({ phoneId: p.phoneId, status: PhoneStatus.Running })),
      },
    };
  }

  /** Take the operation's time, showing its transitional state if it has one; instant mode skips both. */
  private work(operation: string, ctx: DriverContext, transition?: FleetEffects): Promise<void> {
    return this.wait(ctx, this.options.delayMs * (WEIGHT[operation] ?? 1), transition);
  }

  private async wait(ctx: DriverContext, ms: number, transition?: FleetEffects): Promise<void> {
    if (ms <= 0) return;
    if (transition) await ctx.transition(transition);
    await ctx.clock.sleep(ms, ctx.signal);
  }
}

/**
 * Wait for `work`; when the job's time limit stops it, the outcome is a CPS.0904 failure that leaves
 * the fleet as `leftAs` says (an unfinished restart shows as a failed one).
 */
async function withinLimit(ctx: DriverContext, work: Promise<void>, leftAs: FleetEffects): Promise<DriverOutcome | undefined> {
  try {
    await work;
    return undefined;
  } catch (err) {
    const limit = timeLimitReached(ctx.signal);
    if (!limit) throw err;
    return { ...timedOutOutcome(limit.limitMs), effects: leftAs };
  }
}

/**
 * Jobs on one phone never overlap, so a phone found mid-transition (resetting, restarting, stopping)
 * was left there by an operation that was interrupted: it counts as abnormal, which every recovery
 * operation may start from.
 */
export function settledStatus(status: number): number {
  const inTransition: readonly number[] = [PhoneStatus.Resetting, PhoneStatus.Restarting, PhoneStatus.Stopping];
  return inTransition.includes(status) ? PhoneStatus.Abnormal : status;
}

export function finalPhoneState(operation: string, phone: Phone, params: Record<string, unknown>) {
  const imageId = typeof params.imageId === 'string' ? params.imageId : undefined;
  const update = (params.property as Properties | undefined) ?? undefined;
  switch (operation) {
    case 'phone.stop':
      return { phoneId: phone.phoneId, status: PhoneStatus.Stopped };
    case 'phone.update-property':
      return { phoneId: phone.phoneId, property: mergeProperty(phone.property, update ?? {}) };
    case 'phone.reset':
      // A factory reset drops custom properties, then applies the ones given with the reset.
      return { phoneId: phone.phoneId, status: PhoneStatus.Running, imageId, property: formatProperty(update ?? {}) };
    default:
      return { phoneId: phone.phoneId, status: PhoneStatus.Running, imageId, property: update ? mergeProperty(phone.property, update) : undefined };
  }
}
