import { useEffect, useRef, useState } from 'preact/hooks';
import type { FleetState } from '../App';
import { ApiError, listJobs, phoneBatch, restartServers, type BatchAnswer, type PhoneAction, type Session } from '../api';
import { hrefOf } from '../route';
import { Confirm } from './Confirm';
import { plural, Progress } from './Progress';

export const ACTION_LABELS: Record<PhoneAction, { verb: string; what: string; danger: boolean }> = {
  restart: { verb: 'Restart', what: 'Each phone reboots; apps and data stay. A stopped phone starts.', danger: false },
  reset: { verb: 'Reset', what: 'Each phone goes back to its image: installed apps and user data are deleted.', danger: true },
  stop: { verb: 'Stop', what: 'Each phone is powered off until it is restarted.', danger: true },
};

/** A batch the console asked for, as the server answered it. */
export interface Outcome {
  label: string;
  answer?: BatchAnswer;
  error?: string;
}

/**
 * What came of a batch, followed live: the request's progress, and each failed job with its code
 * (refused at once or failed as it ran). It takes the focus, so a keyboard user lands on it.
 */
export function OutcomeNote({ outcome, state }: { outcome: Outcome; state: FleetState }) {
  const ref = useRef<HTMLDivElement>(null);
  const a = outcome.answer;
  const summary = a && state.requests.find((r) => r.request_id === a.request_id);
  const [failed, setFailed] = useState<{ id: string; target?: string; code?: string | null; msg?: string | null }[]>([]);
  useEffect(() => ref.current?.focus(), [outcome]);
  useEffect(() => {
    setFailed((a?.jobs ?? []).filter((j) => j.error_code).map((j) => ({ id: j.job_id, target: j.phone_id ?? j.server_id, code: j.error_code, msg: j.error_msg })));
  }, [a]);
  useEffect(() => {
    if (!a || !summary?.failed) return;
    listJobs(state.session, [a.request_id]).then(
      (all) => setFailed(all.filter((j) => j.status === -1).map((j) => ({ id: j.job_id, target: j.phone_id ?? j.server_id, code: j.error_code, msg: j.error_msg }))),
      () => undefined,
    );
  }, [a, summary?.failed, state.session]);
  const name = (id?: string) => (id && (state.phones.find((p) => p.phone_id === id)?.phone_name ?? state.servers.find((s) => s.server_id === id)?.server_name)) || id;

  if (outcome.error)
    return (
      <div class="note error" role="alert" tabIndex={-1} ref={ref}>
        {outcome.label} refused: {outcome.error}
      </div>
    );
  return (
    <div class="note" role="status" tabIndex={-1} ref={ref}>
      <p>
        {outcome.label} accepted as request{' '}
        <a href={hrefOf({ view: 'jobs', requestId: a!.request_id })} data-testid="outcome-request">
          {a!.request_id}
        </a>{' '}
        ({plural(a!.jobs.length, 'job')}).
      </p>
      {summary && <Progress r={summary} />}
      {failed.length > 0 && (
        <ul data-testid="outcome-failures">
          {failed.map((f) => (
            <li key={f.id}>
              {name(f.target)}: <code class="code">{f.code}</code> {f.msg}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

const byNumber = new Intl.Collator(undefined, { numeric: true });
function sortedNames(names: readonly string[]): string {
  const sorted = [...names].sort(byNumber.compare);
  return sorted.slice(0, 12).join(', ') + (sorted.length > 12 ? ` and ${sorted.length - 12} more` : '');
}

type Pending = { kind: 'phones'; action: PhoneAction; ids: string[]; names: string[] } | { kind: 'servers'; ids: string[]; names: string[] };

/** Asks, then sends a batch on phones or servers; the caller shows the outcome. */
export function useBatch(session: Session, onDone: (o: Outcome) => void) {
  const [pending, setPending] = useState<Pending>();
  const ask = (p: Pending) => setPending(p);
  const send = async (p: Pending) => {
    setPending(undefined);
    const label = p.kind === 'servers' ? `Restart of ${p.ids.length} ${p.ids.length === 1 ? 'server' : 'servers'}` : `${ACTION_LABELS[p.action].verb} of ${p.ids.length} ${p.ids.length === 1 ? 'phone' : 'phones'}`;
    try {
      const answer = p.kind === 'servers' ? await restartServers(session, p.ids) : await phoneBatch(session, p.action, p.ids);
      onDone({ label, answer });
    } catch (e) {
      onDone({ label, error: e instanceof ApiError ? `${e.code} ${e.message}` : (e as Error).message });
    }
  };
  const dialog = pending && (
    <Confirm
      title={pending.kind === 'servers' ? `Restart ${pending.ids.length === 1 ? 'this server' : `${pending.ids.length} servers`}?` : `${ACTION_LABELS[pending.action].verb} ${pending.ids.length} ${pending.ids.length === 1 ? 'phone' : 'phones'}?`}
      confirmLabel={pending.kind === 'servers' ? 'Restart' : ACTION_LABELS[pending.action].verb}
      danger={pending.kind === 'phones' && ACTION_LABELS[pending.action].danger}
      onConfirm={() => void send(pending)}
      onCancel={() => setPending(undefined)}
    >
      <p>{pending.kind === 'servers' ? 'Every phone of the server reboots with it.' : ACTION_LABELS[pending.action].what}</p>
      <p class="names">{sortedNames(pending.names)}</p>
    </Confirm>
  );
  return { ask, dialog };
}
