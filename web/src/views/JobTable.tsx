import type { Job } from '../api';
import { hrefOf } from '../route';
import { jobStatusName, jobTone } from '../status';

export interface JobRow extends Job {
  /** The request's operation, where the table mixes requests. */
  operation?: string;
}

/** Jobs with their codes and output, as ListJobs gives them. */
export function JobTable({ jobs, caption, names, target = true }: { jobs: JobRow[]; caption: string; names: ReadonlyMap<string, string>; target?: boolean }) {
  const operations = jobs.some((j) => j.operation);
  return (
    <div class="scroll">
      <table class="jobs">
        <caption>{caption}</caption>
        <thead>
          <tr>
            {operations && <th scope="col">Operation</th>}
            {target && <th scope="col">Target</th>}
            <th scope="col">Status</th>
            <th scope="col">Error</th>
            <th scope="col">Output</th>
            <th scope="col">Began (UTC)</th>
            <th scope="col">Ended (UTC)</th>
            <th scope="col">Job</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <tr key={j.job_id} data-job-id={j.job_id} data-status={j.status}>
              {operations && <td>{j.operation}</td>}
              {target && (
                <td>
                  {j.phone_id ? <a href={hrefOf({ view: 'phone', phoneId: j.phone_id })}>{names.get(j.phone_id) ?? j.phone_id}</a> : (names.get(j.server_id ?? '') ?? j.server_id)}
                </td>
              )}
              <td>
                <span class={`badge tone-${jobTone(j.status)}`}>{jobStatusName(j.status)}</span>
              </td>
              <td>
                {j.error_code ? (
                  <>
                    <code class="code">{j.error_code}</code> {j.error_msg}
                  </>
                ) : null}
              </td>
              <td>{j.execute_msg ? <pre class="out">{j.execute_msg}</pre> : null}</td>
              <td class="mono time">{j.begin_time}</td>
              <td class="mono time">{j.end_time}</td>
              <td class="mono">{j.job_id}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
