import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { FleetState } from '../App';
import { listJobs, type Job } from '../api';
import { hrefOf } from '../route';
import { JobTable } from './JobTable';
import { plural, Progress } from './Progress';

/** One request's jobs, above the recent requests with their progress; both follow the live events. */
export function JobsView({ state, requestId }: { state: FleetState; requestId?: string }) {
  const [jobs, setJobs] = useState<Job[]>();
  const [error, setError] = useState<string>();
  const heading = useRef<HTMLHeadingElement>(null);
  const names = useMemo(() => new Map([...state.phones.map((p) => [p.phone_id, p.phone_name] as const), ...state.servers.map((s) => [s.server_id, s.server_name] as const)]), [state.phones, state.servers]);

  useEffect(() => {
    setJobs(undefined);
    heading.current?.focus();
  }, [requestId]);
  useEffect(() => {
    if (!requestId) return;
    let stale = false;
    listJobs(state.session, [requestId]).then(
      (all) => !stale && (setJobs(all), setError(undefined)),
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
      {requestId && (
        <section aria-labelledby="request-title" class="request">
          <h2 id="request-title" tabIndex={-1} ref={heading}>
            {current ? `${current.operation} · ` : ''}request <span class="mono">{requestId}</span>
          </h2>
          {current && <Progress r={current} />}
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          {jobs && <JobTable jobs={jobs} caption={plural(jobs.length, 'job')} names={names} />}
        </section>
      )}
      <div class="scroll">
        <table class="requests">
          <caption>Recent requests, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Operation</th>
              <th scope="col">Submitted (UTC)</th>
              <th scope="col">Progress</th>
              <th scope="col">Request</th>
            </tr>
          </thead>
          <tbody>
            {state.requests.map((r) => (
              <tr key={r.request_id} aria-current={r.request_id === requestId ? 'true' : undefined}>
                <td>{r.operation}</td>
                <td class="mono time">{r.create_time}</td>
                <td>
                  <Progress r={r} />
                </td>
                <td class="mono">
                  <a href={hrefOf({ view: 'jobs', requestId: r.request_id })}>{r.request_id}</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {state.requests.length === 0 && <p>No request yet.</p>}
    </>
  );
}
