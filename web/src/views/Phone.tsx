import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { FleetState } from '../App';
import { ApiError, listRequests, runShell, showPhone, type PhoneAction, type PhoneDetail } from '../api';
import { hrefOf } from '../route';
import { phoneStatusName, phoneTone } from '../status';
import { ACTION_LABELS, OutcomeNote, useBatch, type Outcome } from './actions';
import { JobTable, type JobRow } from './JobTable';

const errorText = (e: unknown) => (e instanceof ApiError ? `${e.code} ${e.message}` : (e as Error).message);

/** The phone's properties as key/value pairs (the detail's `property` is a JSON object as a string). */
function properties(text: string | undefined): [string, string][] {
  if (!text) return [];
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    return Object.entries(o).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]);
  } catch {
    return [['property', text]];
  }
}

const SPLIT = '--opencph-files--';
/** One sync shell call reads both, so the page spends one of the project's sync calls a minute. */
const INVENTORY = `pm list packages -3; echo ${SPLIT}; ls /sdcard`;

interface Inventory {
  packages: string[];
  files: string[];
  error?: string;
}

function parseInventory(output: string): Omit<Inventory, 'error'> {
  const [pkgs = '', files = ''] = output.split(SPLIT);
  const lines = (t: string) => t.split('\n').map((l) => l.trim()).filter(Boolean);
  return { packages: lines(pkgs).map((l) => l.replace(/^package:/, '')), files: lines(files) };
}

/** Names read from the phone, or a word that there are none. */
function Listing({ items, empty, testId }: { items: string[]; empty: string; testId: string }) {
  if (items.length === 0) return <p class="muted">{empty}</p>;
  return (
    <ul class="plain" data-testid={testId}>
      {items.map((name) => (
        <li key={name} class="mono">
          {name}
        </li>
      ))}
    </ul>
  );
}

interface ShellRun {
  command: string;
  status?: number;
  output?: string;
  error?: string;
}

export function PhoneView({ state, phoneId }: { state: FleetState; phoneId: string }) {
  const { session } = state;
  const [phone, setPhone] = useState<PhoneDetail>();
  const [error, setError] = useState<string>();
  const [inventory, setInventory] = useState<Inventory>();
  const [jobs, setJobs] = useState<JobRow[]>();
  const [reading, setReading] = useState(false);
  const [runs, setRuns] = useState<ShellRun[]>([]);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>();
  const batch = useBatch(session, (o) => {
    setOutcome(o);
    if (o.answer) state.accepted(o.answer.request_id);
  });
  // The list's status moves with the live events; the detail is read again when it does.
  const listed = state.phones.find((p) => p.phone_id === phoneId);
  const status = listed?.status ?? phone?.status;
  const names = useMemo(() => new Map(state.phones.map((p) => [p.phone_id, p.phone_name] as const)), [state.phones]);

  useEffect(() => {
    showPhone(session, phoneId).then(
      (p) => (setPhone(p), setError(undefined)),
      (e) => setError(errorText(e)),
    );
  }, [session, phoneId, listed?.status]);

  // Apps and files cost one of the project's sync shell calls (6 a minute): read when asked, and
  // again by themselves when the phone is back running after a change (a reset deletes apps).
  const readInventory = () => {
    setInventory(undefined);
    setReading(true);
    runShell(session, [phoneId], INVENTORY).then(
      (r) => {
        const j = r.jobs[0];
        if (!j || j.status !== 2) setInventory({ packages: [], files: [], error: j ? `${j.error_code ?? ''} ${j.error_msg ?? j.execute_msg ?? ''}`.trim() : 'no answer' });
        else setInventory(parseInventory(j.execute_msg ?? ''));
      },
      (e) => setInventory({ packages: [], files: [], error: errorText(e) }),
    ).finally(() => setReading(false));
  };
  const wasRunning = useRef<boolean | undefined>(undefined);
  useEffect(() => {
    const running = status === 2;
    if (running && wasRunning.current === false && inventory) readInventory();
    wasRunning.current = status === undefined ? undefined : running;
  }, [status]);
  useEffect(() => {
    setInventory(undefined);
    wasRunning.current = undefined;
  }, [phoneId]);

  useEffect(() => {
    let stale = false;
    listRequests(session, { phoneId, limit: 10 }).then(
      (reqs) => !stale && setJobs(reqs.filter((r) => r.job).map((r) => ({ ...r.job!, operation: r.operation }))),
      () => undefined,
    );
    return () => {
      stale = true;
    };
  }, [session, phoneId, state.jobTick]);

  const run = async (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const command = String(new FormData(form).get('command') ?? '').trim();
    if (!command) return;
    setBusy(true);
    try {
      const r = await runShell(session, [phoneId], command);
      const j = r.jobs[0];
      setRuns((list) => [{ command, status: j?.status, output: j?.execute_msg ?? '', error: j?.error_code ? `${j.error_code} ${j.error_msg ?? ''}` : undefined }, ...list].slice(0, 20));
      form.reset();
    } catch (e) {
      setRuns((list) => [{ command, error: errorText(e) }, ...list].slice(0, 20));
    } finally {
      setBusy(false);
    }
  };

  if (error && !phone)
    return (
      <>
        <p>
          <a href={hrefOf({ view: 'fleet' })}>← Fleet</a>
        </p>
        <h1>
          Phone <span class="mono">{phoneId}</span>
        </h1>
        <p class="error" role="alert">
          {error}
        </p>
      </>
    );
  if (!phone || status === undefined) return <p>Loading…</p>;
  const act = (action: PhoneAction) => batch.ask({ kind: 'phones', action, ids: [phoneId], names: [phone.phone_name] });
  const server = state.servers.find((s) => s.server_id === phone.server_id);

  return (
    <>
      <p>
        <a href={hrefOf({ view: 'fleet' })}>← Fleet</a>
      </p>
      <header class="phone-head">
        <h1>{phone.phone_name}</h1>
        <span class={`badge tone-${phoneTone(status)}`} data-testid="phone-status">
          {phoneStatusName(status)}
        </span>
        {(Object.keys(ACTION_LABELS) as PhoneAction[]).map((a) => (
          <button key={a} type="button" class={ACTION_LABELS[a].danger ? 'danger' : undefined} disabled={a === 'stop' && status === 8} onClick={() => act(a)}>
            {ACTION_LABELS[a].verb}…
          </button>
        ))}
      </header>
      {outcome && <OutcomeNote outcome={outcome} state={state} />}
      <div class="columns">
        <section aria-labelledby="details-title">
          <h2 id="details-title">Details</h2>
          <dl class="details">
            <dt>Phone id</dt>
            <dd class="mono">{phone.phone_id}</dd>
            <dt>Server</dt>
            <dd>{server?.server_name ?? phone.server_id}</dd>
            <dt>Model</dt>
            <dd>{phone.phone_model_name}</dd>
            <dt>Image</dt>
            <dd class="mono">{phone.image_id}</dd>
            <dt>IMEI</dt>
            <dd class="mono">{phone.imei}</dd>
            <dt>adb address</dt>
            <dd class="mono">{phone.access_infos[0] ? `${phone.access_infos[0].phone_ip}:${phone.access_infos[0].listen_port}` : ''}</dd>
            <dt>Created (UTC)</dt>
            <dd class="mono">{phone.create_time}</dd>
            <dt>Updated (UTC)</dt>
            <dd class="mono">{phone.update_time}</dd>
          </dl>
        </section>
        <section aria-labelledby="props-title">
          <h2 id="props-title">Properties</h2>
          {properties(phone.property).length === 0 ? (
            <p class="muted">None set.</p>
          ) : (
            <table class="kv">
              <tbody>
                {properties(phone.property).map(([k, v]) => (
                  <tr key={k}>
                    <th scope="row">{k}</th>
                    <td class="mono">{v}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
      <section aria-labelledby="inventory-title" aria-busy={reading}>
        <h2 id="inventory-title">Apps and files</h2>
        {!inventory && (
          <p>
            <button type="button" onClick={readInventory} disabled={reading || status !== 2}>
              {reading ? 'Reading…' : 'Read apps and files'}
            </button>{' '}
            <span class="muted">{status !== 2 ? 'The phone must be running.' : 'One sync shell call: the project has 6 a minute.'}</span>
          </p>
        )}
        {inventory?.error && <p class="error">{inventory.error}</p>}
        {inventory && !inventory.error && (
          <div class="columns">
            <div>
              <h3>Installed by a user</h3>
              <Listing items={inventory.packages} empty="No app installed by a user." testId="packages" />
            </div>
            <div>
              <h3>In /sdcard</h3>
              <Listing items={inventory.files} empty="Empty." testId="files" />
            </div>
          </div>
        )}
        {inventory && (
          <button type="button" class="quiet" onClick={readInventory} disabled={reading || status !== 2}>
            Read again
          </button>
        )}
      </section>
      <section aria-labelledby="shell-title">
        <h2 id="shell-title">Shell</h2>
        <form class="shell-box" onSubmit={run}>
          <label for="shell-command">Command (runs as adb shell, output up to 1024 bytes)</label>
          <div class="row">
            <input id="shell-command" name="command" class="mono" autoComplete="off" spellcheck={false} placeholder="getprop ro.product.model" required />
            <button type="submit" disabled={busy}>
              {busy ? 'Running…' : 'Run'}
            </button>
          </div>
        </form>
        <div class="runs" role="log" aria-live="polite" aria-label="Shell output">
          {runs.map((r, i) => (
            <div key={runs.length - i} class="run" data-testid="shell-run">
              <div class="mono prompt">$ {r.command}</div>
              {r.error && <p class="error">{r.error}</p>}
              {r.output ? <pre class="out">{r.output}</pre> : null}
            </div>
          ))}
        </div>
      </section>
      <section aria-labelledby="jobs-title">
        <h2 id="jobs-title">Recent jobs</h2>
        {!jobs ? <p class="muted">Reading…</p> : jobs.length === 0 ? <p class="muted">No recent job on this phone.</p> : <JobTable jobs={jobs} caption="This phone's jobs among the project's recent requests, newest first" names={names} target={false} />}
      </section>
      {batch.dialog}
    </>
  );
}
