import { COMMANDS } from '../../domain/commands.js';
import { Limits } from '../../domain/limits.js';
import { batchId } from './fleet.js';
const ids = { type: 'array', minItems: 1, maxItems: Limits.batchTargetsMax, items: batchId } as const;

export const commandsBody = {
  type: 'object',
  required: ['command', 'content'],
  properties: {
    command: { type: 'string', enum: [...COMMANDS] },
    content: {
      type: 'string',
      description:
        'install/push: obs://bucket/path (install-multiple: up to 50, space-separated); uninstall: a package name; shell: the command, printable ASCII.',
    },
    phone_ids: { ...ids, description: 'Phones to run on; wins over server_ids.' },
    server_ids: { ...ids, description: 'Run on every phone of these servers.' },
  },
} as const;

const str = { type: 'string' } as const;

/** `{request_id, jobs: [item]}` */
function jobsAnswer<P extends object, R extends readonly string[]>(properties: P, required: R) {
  return {
    type: 'object',
    required: ['request_id', 'jobs'],
    properties: { request_id: str, jobs: { type: 'array', items: { type: 'object', required, properties } } },
  } as const;
}

/** An item names a phone, or a server id that was not valid. */
const jobEntry = { phone_id: str, server_id: str, job_id: str, error_code: str, error_msg: str } as const;

export const commandsResponse = jobsAnswer(jobEntry, ['job_id'] as const);

/** RunSyncCommand: each job inline, with its status and output. */
export const syncCommandsResponse = jobsAnswer(
  {
    ...jobEntry,
    status: { type: 'integer', enum: [1, 2, -1], description: '2 success, -1 failure, 1 still running when the call ended' },
    execute_msg: { type: 'string', description: 'Output of the command, at most 1024 bytes' },
  } as const,
  ['job_id', 'status'] as const,
);
