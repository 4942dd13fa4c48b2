import type { BatchItem, CphClient, Job } from './cph.js';

/** How one phone's job ended. */
export interface PhoneResult {
  phoneId: string;
  ok: boolean;
  jobId?: string;
  errorCode?: string;
  errorMsg?: string;
}

export interface WaitOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
  /** Time between two ListJobs calls (default 250 ms). */
  pollMs?: number;
}

/** Restart the phones and wait until every job has ended; one result per phone, in the order given. */
export async function restartAndWait(client: CphClient, phoneIds: string[], options: WaitOptions = {}): Promise<PhoneResult[]> {
  return waitForJobs(client, await client.restartPhones(phoneIds), phoneIds, options);
}

/** Reset (to factory state) the phones and wait until every job has ended. */
export async function resetAndWait(client: CphClient, phoneIds: string[], options: WaitOptions = {}): Promise<PhoneResult[]> {
  return waitForJobs(client, await client.resetPhones(phoneIds), phoneIds, options);
}

/** Reset every phone of the project. */
export async function resetAll(client: CphClient, options: WaitOptions = {}): Promise<PhoneResult[]> {
  const { phones } = await client.listPhones();
  return resetAndWait(client, phones.map((p) => p.phone_id), options);
}

/**
 * Poll ListJobs for the request until no job is running (status 1). A phone refused at submission
 * (an item with error_code and no job) is a failure at once.
 */
async function waitForJobs(client: CphClient, batch: { request_id: string; jobs: BatchItem[] }, phoneIds: string[], options: WaitOptions): Promise<PhoneResult[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const pollMs = options.pollMs ?? 250;
  const expected = batch.jobs.filter((j) => j.job_id).length;
  let jobs: Job[] = [];
  for (;;) {
    if (expected > 0) jobs = (await client.listJobs(batch.request_id)).jobs;
    if (jobs.length >= expected && jobs.every((j) => j.status !== 1)) break;
    if (Date.now() > deadline) throw new Error(`jobs of request ${batch.request_id} still running after ${options.timeoutMs ?? 60_000} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const byJob = new Map(jobs.map((j) => [j.job_id, j]));
  return phoneIds.map((phoneId): PhoneResult => {
    const item = batch.jobs.find((j) => j.phone_id === phoneId);
    const job = item?.job_id ? byJob.get(item.job_id) : undefined;
    if (!job) return { phoneId, ok: false, jobId: item?.job_id, errorCode: item?.error_code ?? undefined, errorMsg: item?.error_msg ?? undefined };
    return job.status === 2
      ? { phoneId, ok: true, jobId: job.job_id }
      : { phoneId, ok: false, jobId: job.job_id, errorCode: job.error_code ?? undefined, errorMsg: job.error_msg ?? undefined };
  });
}
