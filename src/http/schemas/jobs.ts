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

const jobProperties = {
  job_id: { type: 'string' },
  begin_time: { type: 'string', description: 'UTC, YYYY-MM-DDTHH:MM:SSZ' },
  end_time: { ...nullableString, description: 'UTC, YYYY-MM-DDTHH:MM:SSZ; null while running' },
  status: { type: 'integer', enum: [1, 2, -1], description: '1 running, 2 success, -1 failure' },
  error_code: nullableString,
  error_msg: nullableString,
  execute_msg: { ...nullableString, description: 'Output of the job, at most 1024 bytes' },
} as const;

export const listJobsResponse = {
  type: 'object',
  required: ['request_id', 'jobs'],
  properties: {
    request_id: { type: 'string' },
    jobs: {
      type: 'array',
      items: {
        type: 'object',
        properties: { phone_id: { type: 'string' }, server_id: nullableString, node_id: nullableString, ...jobProperties },
      },
    },
  },
} as const;

export const showJobParams = {
  type: 'object',
  required: ['project_id', 'job_id'],
  properties: { project_id: { type: 'string' }, job_id: { type: 'string', maxLength: 64 } },
} as const;

export const showJobResponse = {
  type: 'object',
  properties: { request_id: { type: 'string' }, phone_id: nullableString, server_id: nullableString, ...jobProperties },
} as const;
