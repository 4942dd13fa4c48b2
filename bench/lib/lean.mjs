// The reference for ListJobs: OpenCPH's own signature check, job read and ListJobs body (from
// dist/), answered through bare node:http, one process
// per usable core as `--api-processes auto` runs. There is no routing, no hooks, no validation beyond
// the request id and no log line. Beside the bare baseline it shows what this machine allows for the
// work a ListJobs must do; OpenCPH beside it shows what its HTTP layer costs.
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { credentialVerifier } from '../../dist/auth/verify.js';
import { usableCores } from '../../dist/runtime/cores.js';
import { CphError, Errors } from '../../dist/domain/errors.js';
import { isMintedId, newId } from '../../dist/domain/ids.js';
import { Limits } from '../../dist/domain/limits.js';
import { systemClock } from '../../dist/domain/time.js';
import { listJobsBody } from '../../dist/http/wire.js';
import { openDb } from '../../dist/store/db.js';
import { listJobItems } from '../../dist/store/jobs.js';

const [port, dbFile] = process.argv.slice(2);

if (cluster.isPrimary) {
  for (let i = 0; i < usableCores(); i++) cluster.fork();
  let stopping = false;
  // The workers exit on their own (so that each writes its CPU profile under BENCH_PROFILE).
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  cluster.on('exit', (_worker, code, signal) => {
    // A worker lost mid-run would leave fewer processes answering than the figures say: end them all.
    if (!stopping) {
      console.error(`a reference process exited (${signal ?? `code ${code}`})`);
      process.exitCode = 1;
      stop();
    }
    if (Object.keys(cluster.workers).length === 0) process.exit();
  });
} else {
  const store = openDb({ url: dbFile });
  const verify = credentialVerifier({ db: store.db, sqlite: store.sqlite, clock: systemClock });
  const PATH = /^\/v1\/([0-9a-f]{32})\/cloud-phone\/jobs$/;

  const answer = (res, status, requestId, text) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'x-request-id': requestId });
    res.end(text);
  };

  const server = createServer(async (req, res) => {
    const requestId = newId();
    try {
      const q = req.url.indexOf('?');
      const project = PATH.exec(q < 0 ? req.url : req.url.slice(0, q))?.[1];
      if (req.method !== 'GET' || project === undefined) throw new CphError(Errors.apiNotFound);
      const header = (name) => req.headers[name];
      const caller = await verify({ method: req.method, url: req.url, header, body: undefined, pathProjectId: project });
      if (!caller.projects.has(project)) throw new CphError(Errors.noPermission);
      const request = new URLSearchParams(q < 0 ? '' : req.url.slice(q + 1)).get('request_id');
      if (!isMintedId(request)) throw new CphError(Errors.invalidRequestId);
      const items = await listJobItems(store, project, [request], 0, Limits.listJobs.limitDefault);
      answer(res, 200, requestId, listJobsBody(requestId, items));
    } catch (err) {
      const known = err instanceof CphError;
      answer(res, known ? err.status : 500, requestId, JSON.stringify({ request_id: requestId, error_code: known ? err.code : Errors.internal.code, error_msg: err.message }));
    }
  });
  server.keepAliveTimeout = 72_000;
  server.listen(Number(port), '127.0.0.1');
  process.on('SIGTERM', () => process.exit(0));
}
