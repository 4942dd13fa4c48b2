import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { listPhones, listRequests, listServers, whenUnauthorized, type Phone, type RequestSummary, type Server, type Session } from './api';
import { followEvents, type LiveEvent, type LiveMode } from './live';
import { hrefOf, useRoute } from './route';
import { FleetView } from './views/Fleet';
import { JobsView } from './views/Jobs';
import { LoginView } from './views/Login';
import { PhoneView } from './views/Phone';

const SESSION_KEY = 'opencph.console.session';

function savedSession(): Session | undefined {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
    return s && Date.parse(s.expiresAt) > Date.now() ? s : undefined;
  } catch {
    return undefined;
  }
}

/** What every view reads: the fleet, the recent requests, and a counter that moves when any job does. */
export interface FleetState {
  session: Session;
  phones: Phone[];
  servers: Server[];
  requests: RequestSummary[];
  /** Moves on every job event (or poll): views that show jobs read them again. */
  jobTick: number;
  loaded: boolean;
  error?: string;
  refresh(): void;
  /** A batch was just accepted: show it in the recent requests at once. */
  accepted(requestId: string): void;
}

export function App() {
  const [session, setSession] = useState<Session | undefined>(savedSession);
  const [ended, setEnded] = useState(false);
  const logout = useCallback(() => {
    sessionStorage.removeItem(SESSION_KEY);
    setSession(undefined);
  }, []);
  useEffect(
    () =>
      whenUnauthorized(() => {
        setEnded(true);
        logout();
      }),
    [logout],
  );

  if (!session)
    return (
      <LoginView
        ended={ended}
        onLogin={(s) => {
          setEnded(false);
          sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
          setSession(s);
        }}
      />
    );
  return <Console session={session} onLogout={logout} />;
}

function Console({ session, onLogout }: { session: Session; onLogout: () => void }) {
  const route = useRoute();
  const [phones, setPhones] = useState<Phone[]>([]);
  const [servers, setServers] = useState<Server[]>([]);
  const [requests, setRequests] = useState<RequestSummary[]>([]);
  const [jobTick, setJobTick] = useState(0);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string>();
  const [mode, setMode] = useState<LiveMode>('connecting');
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const known = useRef(new Set<string>());
  known.current = new Set(phones.map((p) => p.phone_id));

  const readRequests = useCallback(() => {
    listRequests(session, { limit: 20 }).then(setRequests, () => undefined);
  }, [session]);

  const refresh = useCallback(() => {
    Promise.all([listPhones(session), listServers(session)]).then(
      ([p, s]) => {
        setPhones(p);
        setServers(s);
        setLoaded(true);
        setError(undefined);
      },
      (e: Error) => setError(e.message),
    );
    readRequests();
    setJobTick((t) => t + 1);
  }, [session, readRequests]);

  // Job events come in bursts (a batch of 100 phones is 300 events): the lists are read once per burst.
  const jobsMoved = useCallback(() => {
    if (pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = undefined;
      readRequests();
      setJobTick((t) => t + 1);
    }, 250);
  }, [readRequests]);

  const onEvent = useCallback(
    (e: LiveEvent) => {
      if (e.type === 'phone.status' && e.phone_id) {
        const id = e.phone_id;
        // A phone the list does not know yet (created since): read the fleet again.
        if (known.current.size > 0 && !known.current.has(id)) refresh();
        else setPhones((list) => list.map((p) => (p.phone_id === id ? { ...p, status: e.status } : p)));
      } else if (e.type === 'server.status' && e.server_id) {
        const id = e.server_id;
        setServers((list) => list.map((s) => (s.server_id === id ? { ...s, status: e.status } : s)));
      } else jobsMoved();
    },
    [refresh, jobsMoved],
  );

  useEffect(() => {
    refresh();
    return followEvents(session, { onEvent, onRefresh: refresh, onMode: setMode });
  }, [session, refresh, onEvent]);

  const state: FleetState = { session, phones, servers, requests, jobTick, loaded, error, refresh, accepted: readRequests };
  const modeText = { live: 'Live', polling: 'Polling every 5 s', offline: 'Not connected', connecting: 'Connecting…' }[mode];
  // When the server stopped answering: what the page shows is as of then.
  const [lostAt, setLostAt] = useState<string>();
  useEffect(() => setLostAt(mode === 'offline' ? new Date().toLocaleTimeString() : undefined), [mode === 'offline']);
  useEffect(() => {
    document.title = `${route.view === 'jobs' ? 'Jobs' : route.view === 'phone' ? (phones.find((p) => p.phone_id === route.phoneId)?.phone_name ?? 'Phone') : 'Fleet'} · OpenCPH`;
  }, [route, phones]);

  return (
    <div class="shell">
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          // The address after # names the view: the link only moves the focus.
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <span class="brand">OpenCPH</span>
        <nav aria-label="Views">
          <a href={hrefOf({ view: 'fleet' })} aria-current={route.view === 'fleet' || route.view === 'phone' ? 'page' : undefined}>
            Fleet
          </a>
          <a href={hrefOf({ view: 'jobs' })} aria-current={route.view === 'jobs' ? 'page' : undefined}>
            Jobs
          </a>
        </nav>
        <span class={`mode mode-${mode}`} role="status" data-testid="live-mode">
          {modeText}
        </span>
        <span class="who">
          {session.user} · {session.projectName}
        </span>
        <button type="button" class="quiet" onClick={onLogout}>
          Log out
        </button>
      </header>
      <main id="main" tabIndex={-1} class={lostAt ? 'stale' : undefined}>
        {lostAt ? (
          <p class="error" role="alert">
            The server stopped answering at {lostAt}: what you see is as it was then. Trying again…
          </p>
        ) : (
          error && (
            <p class="error" role="alert">
              {error}
            </p>
          )
        )}
        {route.view === 'fleet' && <FleetView state={state} />}
        {route.view === 'phone' && <PhoneView key={route.phoneId} state={state} phoneId={route.phoneId} />}
        {route.view === 'jobs' && <JobsView state={state} requestId={route.requestId} />}
      </main>
    </div>
  );
}
