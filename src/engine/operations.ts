import type { CommandName } from '../domain/commands.js';
import type { TimeLimitKind } from '../domain/limits.js';

/**
 * The batch operations the engine runs. `retryable` says whether a job interrupted by a crash may
 * simply run again (power actions converge to the same state) or must fail instead (a shell command
 * may already have had its effect).
 */
export interface OperationDef {
  readonly name: string;
  readonly scope: 'phone' | 'server';
  readonly retryable: boolean;
  /** Which of the node's time limits its jobs run under. */
  readonly timeLimit: TimeLimitKind;
}

const def = (name: string, scope: 'phone' | 'server', retryable: boolean, timeLimit: TimeLimitKind = 'operation'): OperationDef => ({ name, scope, retryable, timeLimit });

export const Operations = {
  restartPhone: def('phone.restart', 'phone', true),
  resetPhone: def('phone.reset', 'phone', true),
  stopPhone: def('phone.stop', 'phone', true),
  restartServer: def('server.restart', 'server', true),
  // Property updates converge like power actions; adb commands may have had their effect already.
  updateProperty: def('phone.update-property', 'phone', true),
  install: def('phone.install', 'phone', false, 'install'),
  uninstall: def('phone.uninstall', 'phone', false, 'uninstall'),
  push: def('phone.push', 'phone', false, 'push'),
  shell: def('phone.shell', 'phone', false, 'shell'),
} as const satisfies Record<string, OperationDef>;

const BY_COMMAND: Record<CommandName, OperationDef> = {
  install: Operations.install,
  'install-multiple': Operations.install,
  uninstall: Operations.uninstall,
  push: Operations.push,
  shell: Operations.shell,
};

/** The operation that runs an adb command of POST /phones/commands. */
export function commandOperation(command: CommandName): OperationDef {
  return BY_COMMAND[command];
}

const byName = new Map<string, OperationDef>(Object.values(Operations).map((o) => [o.name, o]));

export function operationByName(name: string): OperationDef | undefined {
  return byName.get(name);
}

/** Names of the operations that take a server adb slot (at most `--server-adb-concurrency` per server). */
export { ADB_OPERATIONS } from '../domain/commands.js';

/** How many times a job may be started before an interruption fails it for good. */
export const MAX_ATTEMPTS = 3;
