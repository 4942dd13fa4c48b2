import { Errors, type CatalogueEntry } from '../domain/errors.js';
import type { ObsRef } from '../domain/commands.js';
import type { DriverOutcome } from './driver.js';

/** What a command run on a phone produced: its output (stdout and stderr, in order) and exit status. */
export interface CommandResult {
  exitCode: number;
  output: string;
}

/**
 * The one rule for every adb command (shell, install, uninstall, push): exit status 0 is a
 * successful job (status 2); any other status is a failed job (status -1) with CPS.0902 and the
 * status in error_msg. Either way execute_msg holds the output, so a failure can be diagnosed.
 */
export function commandOutcome(r: CommandResult): DriverOutcome {
  if (r.exitCode === 0) return { ok: true, executeMsg: r.output };
  return {
    ok: false,
    errorCode: Errors.commandFailed.code,
    errorMsg: `${Errors.commandFailed.message} It exited with status ${r.exitCode}.`,
    executeMsg: r.output,
  };
}

/** A job cut off by its time limit: a failed job with CPS.0904 and, for a command, what it printed so far. */
export function timedOutOutcome(limitMs: number, output?: string): DriverOutcome {
  return {
    ok: false,
    errorCode: Errors.commandTimedOut.code,
    errorMsg: `${Errors.commandTimedOut.message} It ran longer than ${limitMs / 1000} s.`,
    ...(output === undefined ? {} : { executeMsg: output }),
  };
}

/** A failed job with a catalogue code, the detail after its message, and what else it carries. */
export const failOutcome = (entry: CatalogueEntry, detail: string, extra: Partial<DriverOutcome> = {}): DriverOutcome => ({
  ok: false,
  errorCode: entry.code,
  errorMsg: `${entry.message} ${detail}`,
  ...extra,
});

/** An install or push whose OBS object is not there. */
export const objectMissing = (ref: ObsRef): DriverOutcome => failOutcome(Errors.objectNotFound, `${ref.uri} was not found.`);
