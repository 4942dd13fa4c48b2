import { Command } from 'commander';
import { listJobs, showJob, type Job } from './api.js';
import { follow, run, seconds, verb } from './common.js';
import { fields, json, print, table } from './output.js';

/** `opencph jobs list|show|wait`. */

const statusText = (j: Job) => (j.status === 2 ? '2 succeeded' : j.status === 1 ? '1 running' : `${j.status} failed`);

export function jobsCommand(): Command {
  const jobs = new Command('jobs').description('The jobs of batch requests: list, show, wait.');
  jobs.addCommand(
    verb('list', 'the jobs of a request (ListJobs)', 'opencph jobs list 5f0c8e1b2a3d4c5e6f708192a3b4c5d6')
      .argument('<request_id>', 'the request id a batch verb printed')
      .action(
        run(async (s, [requestId], o) => {
          const list = await listJobs(s, [requestId as string]);
          if (o.output === 'json') return print(json({ request_id: requestId, jobs: list }));
          print(
            table(list, [
              { title: 'JOB_ID', value: (j) => j.job_id },
              { title: 'TARGET', value: (j) => j.phone_id ?? j.encode_server_id ?? j.server_id },
              { title: 'STATUS', value: statusText },
              { title: 'BEGIN', value: (j) => j.begin_time },
              { title: 'END', value: (j) => j.end_time },
              { title: 'ERROR_CODE', value: (j) => j.error_code },
              { title: 'ERROR_MSG', value: (j) => j.error_msg },
            ]),
          );
        }),
      ),
  );
  jobs.addCommand(
    verb('show', 'one job, with its output (ShowJob)', 'opencph jobs show 0a1b2c3d4e5f60718293a4b5c6d7e8f9')
      .argument('<job_id>', 'the job id')
      .action(
        run(async (s, [jobId], o) => {
          const job = await showJob(s, jobId as string);
          print(o.output === 'json' ? json(job) : fields({ ...job, status: statusText(job) }));
        }),
      ),
  );
  jobs.addCommand(
    verb('wait', 'wait until every job of the requests has ended; exit status 0 only if all succeeded', 'opencph jobs wait 5f0c8e1b2a3d4c5e6f708192a3b4c5d6 7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d --timeout 300')
      .argument('<request_ids...>', 'request ids')
      .option('--timeout <seconds>', 'give up after this long (exit status 124; the jobs go on)', seconds)
      .action(run(async (s, [ids], o) => follow(s, ids as string[], o, new Map()))),
  );
  return jobs;
}
