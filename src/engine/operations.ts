/**
 * The batch operations the engine runs. `retryable` says whether a job interrupted by a crash may
 * simply run again (power actions converge to the same state) or must fail instead (a shell command
 * may already have had its effect).
 */
export interface OperationDef {
  readonly name: string;
  readonly scope: 'phone' | 'server';
  readonly retryable: boolean;
}

const def = (name: string, scope: 'phone' | 'server', retryable: boolean): OperationDef => ({ name, scope, retryable });

export const Operations = {
  restartPhone: def('phone.restart', 'phone', true),
  resetPhone: def('phone.reset', 'phone', true),
  stopPhone: def('phone.stop', 'phone', true),
  restartServer: def('server.restart', 'server', true),
} as const satisfies Record<string, OperationDef>;

const byName = new Map<string, OperationDef>(Object.values(Operations).map((o) => [o.name, o]));

export function operationByName(name: string): OperationDef | undefined {
  return byName.get(name);
}

/** How many times a job may be started before an interruption fails it for good. */
export const MAX_ATTEMPTS = 3;
