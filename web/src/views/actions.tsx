import { useState } from 'preact/hooks';
import { ApiError, phoneBatch, restartServers, type BatchAnswer, type PhoneAction, type Session } from '../api';
import { hrefOf } from '../route';
import { Confirm } from './Confirm';

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

/** What came of a batch: the request to follow, and the targets refused at once with their codes. */
export function OutcomeNote({ outcome }: { outcome: Outcome }) {
  if (outcome.error)
    return (
      <p class="error" role="alert">
        {outcome.label} refused: {outcome.error}
      </p>
    );
  const a = outcome.answer!;
  const refused = a.jobs.filter((j) => j.error_code);
  return (
    <div class="note" role="status">
      {outcome.label} accepted as request{' '}
      <a href={hrefOf({ view: 'jobs', requestId: a.request_id })} data-testid="outcome-request">
        {a.request_id}
      </a>{' '}
      ({a.jobs.length} {a.jobs.length === 1 ? 'job' : 'jobs'}).
      {refused.length > 0 && (
        <ul>
          {refused.map((j) => (
            <li key={j.job_id}>
              {j.phone_id ?? j.server_id}: {j.error_code} {j.error_msg}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
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
      <p class="names">{pending.names.slice(0, 12).join(', ') + (pending.names.length > 12 ? ` and ${pending.names.length - 12} more` : '')}</p>
    </Confirm>
  );
  return { ask, dialog };
}
