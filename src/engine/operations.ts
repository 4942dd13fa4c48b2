import type { CommandName } from '../domain/commands.js';
import type { TimeLimitKind } from '../domain/limits.js';

/**
 * The batch operations the engine runs. `retryable` says whether a job interrupted by a crash may
 * simply run again (power actions converge to the same state) or must fail instead (a shell command
 * may already have had its effect).
 */
export type OperationScope = 'phone' | 'server' | 'encode-server';

export interface OperationDef {
  readonly name: string;
  /** What one job acts on: a phone, a server, or an encode server (its job answers with `encode_server_id`). */
  readonly scope: OperationScope;
  readonly retryable: boolean;
  /** Which of the node's time limits its jobs run under. */
  readonly timeLimit: TimeLimitKind;
}

const def = (name: string, scope: OperationScope, retryable: boolean, timeLimit: TimeLimitKind = 'operation'): OperationDef => ({ name, scope, retryable, timeLimit });

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
  // Phones: volumes, traffic, data export and restore (an export or restore written twice ends the same).
  expandVolume: def('phone.expand-volume', 'phone', true),
  importTraffic: def('phone.import-traffic', 'phone', true),
  exportData: def('phone.export-data', 'phone', true),
  importData: def('phone.import-data', 'phone', true),
  // Server lifecycle: a bought server's provisioning, deletion, change of physical server or model, key pair.
  createServer: def('server.create', 'server', true),
  deleteServer: def('server.delete', 'server', true),
  changeServer: def('server.change', 'server', true),
  changeServerModel: def('server.change-model', 'server', true),
  updateKeypair: def('server.update-keypair', 'server', true),
  // Shared storage and shared apps of a server, seen by all its phones.
  pushShareFiles: def('server.push-share-files', 'server', false, 'push'),
  deleteShareFiles: def('server.delete-share-files', 'server', true),
  listShareFiles: def('server.list-share-files', 'server', true),
  pushShareApps: def('server.push-share-apps', 'server', false, 'install'),
  deleteShareApps: def('server.delete-share-apps', 'server', true),
  restartEncodeServer: def('encode-server.restart', 'encode-server', true),
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
