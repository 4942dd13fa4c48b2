import { useEffect, useMemo, useState } from 'preact/hooks';
import type { FleetState } from '../App';
import { listJobs, type Job, type RequestSummary } from '../api';
import { hrefOf } from '../route';
import { JobTable } from './JobTable';

/** A request's progress: a bar, and the counts in words for those who do not see the bar. */
export function Progress({ r }: { r: RequestSummary }) {
  const pct = (n: number) => (r.jobs ? (100 * n) / r.jobs : 0);
  const words = `${r.succeeded} succeeded, ${r.failed} failed, ${r.running} running of ${r.jobs}`;
  return (
    <span class="progress" data-request-id={r.request_id}>
      <span class="bar" role="img" aria-label={words}>
        <span class="seg tone-ok" style={{ width: `${pct(r.succeeded)}%` }} />
        <span class="seg tone-bad" style={{ width: `${pct(r.failed)}%` }} />
        <span class="seg tone-busy" style={{ width: `${pct(r.running)}%` }} />
      </span>
      <span class="counts">{words}</span>
    </span>
  );
}

/** The recent requests with their progress, and one request's jobs; both follow the live events. */
export function JobsView({ state, requestId }: { state: FleetState; requestId?: string }) {
  const [jobs, setJobs] = useState<Job[]>();
  const [error, setError] = useState<string>();
  const names = useMemo(() => new Map([...state.phones.map((p) => [p.phone_id, p.phone_name] as const), ...state.servers.map((s) => [s.server_id, s.server_name] as const)]), [state.phones, state.servers]);

  useEffect(() => {
    if (!requestId) return;
    let stale = false;
    listJobs(state.session, [requestId]).then(
      (r) => !stale && (setJobs(r.jobs), setError(undefined)),
      (e: Error) => !stale && setError(e.message),
    );
    return () => {
      stale = true;
    };
  }, [state.session, requestId, state.jobTick]);

  const current = state.requests.find((r) => r.request_id === requestId);
  return (
    <>
      <h1>Jobs</h1>
      <table class="requests">
        <caption>Recent requests, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Request</th>
            <th scope="col">Operation</th>
            <th scope="col">Submitted (UTC)</th>
            <th scope="col">Progress</th>
          </tr>
        </thead>
        <tbody>
          {state.requests.map((r) => (
            <tr key={r.request_id} aria-current={r.request_id === requestId ? 'true' : undefined}>
              <td class="mono">
                <a href={hrefOf({ view: 'jobs', requestId: r.request_id })}>{r.request_id}</a>
              </td>
              <td>{r.operation}</td>
              <td class="mono">{r.create_time}</td>
              <td>
                <Progress r={r} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {state.requests.length === 0 && <p>No request yet.</p>}
      {requestId && (
        <section aria-labelledby="request-title">
          <h2 id="request-title">
            Request <span class="mono">{requestId}</span>
          </h2>
          {current && <Progress r={current} />}
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          {jobs && <JobTable jobs={jobs} caption={`${jobs.length} jobs`} names={names} />}
        </section>
      )}
    </>
  );
}
