import { useEffect, useMemo, useState } from 'preact/hooks';
import type { FleetState } from '../App';
import type { Phone, PhoneAction } from '../api';
import { hrefOf } from '../route';
import { PHONE_FILTERS, phoneStatusName, phoneTone, serverStatusName, serverTone } from '../status';
import { ACTION_LABELS, OutcomeNote, useBatch, type Outcome } from './actions';

const byName = (a: Phone, b: Phone) => a.phone_name.localeCompare(b.phone_name, undefined, { numeric: true });

/** Servers with their phones as tiles coloured (and labelled) by status; filters; batch actions on a selection. */
export function FleetView({ state }: { state: FleetState }) {
  const [status, setStatus] = useState('');
  const [name, setName] = useState('');
  const [serverId, setServerId] = useState('');
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [outcome, setOutcome] = useState<Outcome>();
  const batch = useBatch(state.session, (o) => {
    setOutcome(o);
    if (o.answer) {
      setSelected(new Set());
      state.accepted(o.answer.request_id);
    }
  });

  const shown = useMemo(() => {
    const needle = name.trim().toLowerCase();
    return state.phones.filter(
      (p) => (status === '' || p.status === Number(status)) && (serverId === '' || p.server_id === serverId) && (needle === '' || p.phone_name.toLowerCase().includes(needle) || p.phone_id.includes(needle)),
    );
  }, [state.phones, status, name, serverId]);

  const byServer = useMemo(() => {
    const groups = new Map<string, Phone[]>();
    for (const p of shown) groups.set(p.server_id, [...(groups.get(p.server_id) ?? []), p]);
    for (const list of groups.values()) list.sort(byName);
    return groups;
  }, [shown]);

  const servers = useMemo(() => [...state.servers].sort((a, b) => a.server_name.localeCompare(b.server_name, undefined, { numeric: true })), [state.servers]);
  const counts = useMemo(() => {
    const c = new Map<number, number>();
    for (const p of state.phones) c.set(p.status, (c.get(p.status) ?? 0) + 1);
    return c;
  }, [state.phones]);

  // A selection is of phones in view: a filter that hides a phone drops it, so an action never
  // reaches a phone the page does not show.
  useEffect(() => {
    const visible = new Set(shown.map((p) => p.phone_id));
    if ([...selected].some((id) => !visible.has(id))) setSelected(new Set([...selected].filter((id) => visible.has(id))));
  }, [shown]);

  const toggle = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  };
  const allShown = shown.length > 0 && shown.every((p) => selected.has(p.phone_id));
  const chosen = state.phones.filter((p) => selected.has(p.phone_id));
  const act = (action: PhoneAction) => batch.ask({ kind: 'phones', action, ids: chosen.map((p) => p.phone_id), names: chosen.map((p) => p.phone_name) });

  return (
    <>
      <h1>Fleet</h1>
      <p class="summary" aria-live="polite">
        {state.loaded ? `${state.phones.length} phones on ${state.servers.length} servers` : 'Loading…'}
        {[...counts].map(([s, n]) => (
          <span key={s} class={`chip tone-${phoneTone(s)}`}>
            {n} {phoneStatusName(s)}
          </span>
        ))}
      </p>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">any</option>
            {PHONE_FILTERS.map((s) => (
              <option key={s} value={String(s)}>
                {phoneStatusName(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Name
          <input type="search" value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="phone name or id" />
        </label>
        <label>
          Server
          <select value={serverId} onChange={(e) => setServerId(e.currentTarget.value)}>
            <option value="">any</option>
            {servers.map((s) => (
              <option key={s.server_id} value={s.server_id}>
                {s.server_name}
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input type="checkbox" checked={allShown} onChange={(e) => setSelected(e.currentTarget.checked ? new Set(shown.map((p) => p.phone_id)) : new Set())} />
          Select all shown
        </label>
      </form>
      {outcome && <OutcomeNote outcome={outcome} state={state} />}
      {state.loaded && shown.length === 0 && <p>No phone matches.</p>}
      {servers
        .filter((s) => byServer.has(s.server_id))
        .map((s) => (
          <section key={s.server_id} class="server" aria-labelledby={`srv-${s.server_id}`}>
            <header>
              <h2 id={`srv-${s.server_id}`}>{s.server_name}</h2>
              <span class={`badge tone-${serverTone(s.status)}`}>{serverStatusName(s.status)}</span>
              <span class="muted">{s.server_model_name}</span>
              <button
                type="button"
                class="quiet"
                disabled={serverTone(s.status) === 'busy'}
                title={serverTone(s.status) === 'busy' ? `The server is ${serverStatusName(s.status)}` : undefined}
                onClick={() => batch.ask({ kind: 'servers', ids: [s.server_id], names: [s.server_name] })}
              >
                Restart server
              </button>
            </header>
            <ul class="tiles">
              {byServer.get(s.server_id)!.map((p) => (
                <li key={p.phone_id} class={`tile tone-${phoneTone(p.status)}`} data-phone-id={p.phone_id} data-status={p.status}>
                  <input type="checkbox" aria-label={`Select ${p.phone_name}`} checked={selected.has(p.phone_id)} onChange={(e) => toggle(p.phone_id, e.currentTarget.checked)} />
                  <a href={hrefOf({ view: 'phone', phoneId: p.phone_id })}>{p.phone_name}</a>
                  <span class="status">{phoneStatusName(p.status)}</span>
                </li>
              ))}
            </ul>
          </section>
        ))}
      {chosen.length > 0 && (
        <div class="batchbar" role="region" aria-label="Batch actions">
          <span>
            {chosen.length} {chosen.length === 1 ? 'phone' : 'phones'} selected
          </span>
          {(Object.keys(ACTION_LABELS) as PhoneAction[]).map((a) => (
            <button key={a} type="button" class={ACTION_LABELS[a].danger ? 'danger' : undefined} disabled={a === 'stop' && chosen.every((p) => p.status === 8)} onClick={() => act(a)}>
              {ACTION_LABELS[a].verb}…
            </button>
          ))}
          <button type="button" class="quiet" onClick={() => setSelected(new Set())}>
            Clear selection
          </button>
        </div>
      )}
      {batch.dialog}
    </>
  );
}
