/**
 * Live events of the test-control extension (`GET /_opencph/v1/{project_id}/events`, webhooks):
 * the one definition of their wire shape, for the server that writes them and the client that reads them.
 */

export const EVENT_TYPES = ['job.accepted', 'job.started', 'job.finished', 'phone.status', 'server.status'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** An event's data as streams and webhooks carry it: only the fields it has, in the contract's order. */
export interface EventData {
  type: EventType;
  /** ISO 8601, UTC. */
  time: string;
  project_id: string;
  request_id?: string;
  job_id?: string;
  operation?: string;
  phone_id?: string;
  server_id?: string;
  encode_server_id?: string;
  /** A job's status (1 running, 2 succeeded, -1 failed), or the phone's or server's new status. */
  status: number;
  error_code?: string;
  error_msg?: string;
  previous_status?: number;
}
