import type { RequestSummary } from '../api';

/** A request's progress: a bar, and the counts in words for those who do not see the bar. */
export function Progress({ r }: { r: RequestSummary }) {
  const pct = (n: number) => (r.jobs ? (100 * n) / r.jobs : 0);
  const words = `${r.succeeded} succeeded, ${r.failed} failed, ${r.running} running of ${r.jobs}`;
  return (
    <span class="progress" data-request-id={r.request_id}>
      <span class="bar" role="img" aria-label={words}>
        <span class="seg tone-ok" style={{ width: `${pct(r.succeeded)}%` }} />
        <span class="seg tone-bad" style={{ width: `${pct(r.failed)}%` }} />
        <span class="seg tone-busy" style={{ width: `${pct(r.running)}%` }} />
      </span>
      <span class="counts">{words}</span>
    </span>
  );
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
