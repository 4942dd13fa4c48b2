import type { Job } from '../api';
import { hrefOf } from '../route';
import { jobStatusName, jobTone } from '../status';

/** Jobs with their codes and output, as ListJobs gives them. */
export function JobTable({ jobs, caption, names }: { jobs: Job[]; caption: string; names: ReadonlyMap<string, string> }) {
  return (
    <table class="jobs">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Job</th>
          <th scope="col">Target</th>
          <th scope="col">Status</th>
          <th scope="col">Error</th>
          <th scope="col">Output</th>
          <th scope="col">Began (UTC)</th>
          <th scope="col">Ended (UTC)</th>
        </tr>
      </thead>
      <tbody>
        {jobs.map((j) => (
          <tr key={j.job_id} data-job-id={j.job_id} data-status={j.status}>
            <td class="mono">{j.job_id}</td>
            <td>
              {j.phone_id ? (
                <a href={hrefOf({ view: 'phone', phoneId: j.phone_id })}>{names.get(j.phone_id) ?? j.phone_id}</a>
              ) : (
                (names.get(j.server_id ?? '') ?? j.server_id)
              )}
            </td>
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
            <td class="mono">{j.begin_time}</td>
            <td class="mono">{j.end_time}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
