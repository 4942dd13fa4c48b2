import { Limits } from '../../domain/limits.js';
import { nullableString, pageQuery } from './common.js';

export const listJobsQuery = {
  type: 'object',
  properties: {
    request_id: { type: 'string', description: 'The request_id a batch call answered with.' },
    request_ids: { type: 'string', description: `Several request ids, comma-separated, at most ${Limits.listJobs.maxRequestIds}; wins over request_id.` },
    ...pageQuery(Limits.listJobs.limitMax, Limits.listJobs.limitDefault),
  },
} as const;

const times = {
  begin_time: { type: 'string', description: 'UTC, YYYY-MM-DDTHH:MM:SSZ' },
  end_time: { ...nullableString, description: 'UTC, YYYY-MM-DDTHH:MM:SSZ; null while running' },
  status: { type: 'integer', enum: [1, 2, -1], description: '1 running, 2 success, -1 failure' },
} as const;

const JOB_FIELDS = ['job_id', 'begin_time', 'end_time', 'status', 'error_code', 'error_msg', 'execute_msg'] as const;

/** A ListJobs item shows absent messages as "". */
const listedFields = {
  job_id: { type: 'string' },
  ...times,
  error_code: { type: 'string' },
  error_msg: { type: 'string' },
  execute_msg: { type: 'string', description: 'Output of the job, at most 1024 bytes' },
} as const;

const listedJob = { node_id: { ...nullableString, description: "The job's server (deprecated in CPH; server_id again)" }, ...listedFields } as const;

/** A phone job (`phone_id` and its server's `server_id`), a server job (`server_id` alone) or an encode-server job (`encode_server_id` alone, no `node_id`). */
export const listJobsItem = {
  oneOf: [
    {
      type: 'object',
      required: ['phone_id', 'server_id', 'node_id', ...JOB_FIELDS],
      additionalProperties: false,
      properties: { phone_id: { type: 'string' }, server_id: { ...nullableString, description: "The phone's server" }, ...listedJob },
    },
    {
      type: 'object',
      required: ['server_id', 'node_id', ...JOB_FIELDS],
      additionalProperties: false,
      properties: { server_id: { type: 'string' }, ...listedJob },
    },
    {
      type: 'object',
      required: ['encode_server_id', ...JOB_FIELDS],
      additionalProperties: false,
      properties: { encode_server_id: { type: 'string' }, ...listedFields },
    },
  ],
} as const;

export const listJobsResponse = {
  type: 'object',
  required: ['request_id', 'jobs'],
  additionalProperties: false,
  properties: {
    request_id: { type: 'string' },
    jobs: { type: 'array', items: listJobsItem },
  },
} as const;

export const showJobParams = {
  type: 'object',
  required: ['project_id', 'job_id'],
  properties: { project_id: { type: 'string' }, job_id: { type: 'string', maxLength: 64 } },
} as const;

/** ShowJob shows absent values as null; an encode-server job has `encode_server_id` instead of `phone_id` and `server_id`. */
export const showJobResponse = {
  type: 'object',
  required: ['request_id', ...JOB_FIELDS],
  // A phone or server job names both of those, an encode-server job its encode server.
  anyOf: [
    { type: 'object', required: ['phone_id', 'server_id'] },
    { type: 'object', required: ['encode_server_id'] },
  ],
  additionalProperties: false,
  properties: {
    request_id: { type: 'string' },
    job_id: { type: 'string' },
    ...times,
    phone_id: nullableString,
    server_id: nullableString,
    encode_server_id: { type: 'string', description: 'Encode-server jobs only' },
    error_code: nullableString,
    error_msg: nullableString,
    execute_msg: { ...nullableString, description: 'Output of the job, at most 1024 bytes' },
  },
} as const;
