import { readdirSync, readFileSync } from 'node:fs';

/** CPU time (user + system, µs) a process and its children have used so far, on Linux; undefined elsewhere. */
export function cpuMicros(pid) {
  try {
    return [pid, ...childrenOf(pid)].map(ownCpuMicros).reduce((a, b) => a + b, 0);
  } catch {
    return undefined;
  }
}

/** The pids whose parent is `pid`, from /proc. */
function childrenOf(pid) {
  const children = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ')[1] === String(pid)) children.push(Number(entry));
    } catch {
      // gone since the listing
    }
  }
  return children;
}

function ownCpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;
