import type { Selectable } from 'kysely';
import type { Db } from './db.js';
import type { SimRunTable } from './schema.js';

export type SimRunRow = Selectable<SimRunTable>;

export interface SimRunStart {
  jobId: string;
  worker: string;
  operation: string;
  phoneId: string | null;
  serverId: string | null;
  at: number;
}

export async function startSimRun(db: Db, r: SimRunStart): Promise<number> {
  const row = await db
    .insertInto('sim_runs')
    .values({ job_id: r.jobId, worker: r.worker, operation: r.operation, phone_id: r.phoneId, server_id: r.serverId, started_at: r.at, ended_at: null })
    .returning('run_id')
    .executeTakeFirstOrThrow();
  return Number(row.run_id);
}

export async function endSimRun(db: Db, runId: number, at: number): Promise<void> {
  await db.updateTable('sim_runs').set({ ended_at: at }).where('run_id', '=', runId).execute();
}
