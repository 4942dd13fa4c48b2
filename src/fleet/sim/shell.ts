import { posix } from 'node:path';
import { MAX_TIMER_MS } from '../../domain/limits.js';
import type { CommandResult } from '../outcome.js';
import type { FileNode, SimPhone } from './android.js';

/**
 * The simulated phone's `/system/bin/sh`: enough of Android's shell for automation to inspect and
 * change a phone. Words split on spaces, with '…', "…" and \ quoting; commands chain with `;`, `&&`
 * and `||`; `$?` is the status of the command before; `>/dev/null` and `2>/dev/null` drop a stream
 * and `2>&1` is accepted (the output is one stream). No pipes, other redirections, other variables
 * or substitutions: those answer with an error.
 * Output is stdout and stderr together, in order.
 */

/** Thrown when the signal aborts a running script; carries what was printed until then. */
export class ShellAborted extends Error {
  constructor(readonly output: string) {
    super('the shell was interrupted');
  }
}

type Op = ';' | '&&' | '||';
interface Step {
  /** How this command joins the previous one. */
  op: Op;
  words: string[];
  /** Streams sent to /dev/null (`>/dev/null`, `2>/dev/null`); absent when none is. */
  discard?: { out: boolean; err: boolean };
}

class ShellSyntaxError extends Error {}

const SH = '/system/bin/sh';
/** Stands in a parsed word for `$?`, replaced when the command runs (NUL cannot be in an argument). */
const LAST_STATUS = '\0';
/** Stands in a parsed word for an unquoted `*`, which matches names when the command runs (see expandWord). */
const STAR = '\u0001';

/** Split a script into commands and words. */
export function parseScript(script: string): Step[] {
  const steps: Step[] = [];
  let words: string[] = [];
  let word: string | undefined;
  let op: Op = ';';
  let discard: { out: boolean; err: boolean } | undefined;
  const endWord = () => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  const endStep = (next: Op) => {
    endWord();
    if (words.length === 0 && next !== ';') throw new ShellSyntaxError(`syntax error: '${next}' unexpected`);
    if (words.length > 0) steps.push({ op, words, ...(discard ? { discard } : {}) });
    words = [];
    discard = undefined;
    op = next;
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    const two = script.slice(i, i + 2);
    if (c === ' ' || c === '\t') endWord();
    else if (two === '&&' || two === '||') {
      endStep(two);
      i++;
    } else if (c === ';') endStep(';');
    else if (c === "'") {
      const end = script.indexOf("'", i + 1);
      if (end < 0) throw new ShellSyntaxError("syntax error: unterminated quoted string");
      word = (word ?? '') + script.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let text = '';
      let j = i + 1;
      for (; j < script.length && script[j] !== '"'; j++) {
        if (script[j] === '\\' && /["\\$`]/.test(script[j + 1] ?? '')) j++;
        else if (script[j] === '$' && script[j + 1] === '?') {
          text += LAST_STATUS;
          j++;
          continue;
        } else if (script[j] === '$' || script[j] === '`') throw new ShellSyntaxError(`'${script[j]}' (substitution) is not supported by the simulated shell`);
        text += script[j];
      }
      if (j >= script.length) throw new ShellSyntaxError('syntax error: unterminated quoted string');
      word = (word ?? '') + text;
      i = j;
    } else if (c === '\\') {
      word = (word ?? '') + (script[i + 1] ?? '');
      i++;
    } else if (c === '$' && script[i + 1] === '?') {
      word = (word ?? '') + LAST_STATUS;
      i++;
    } else if (c === '>' && (word === undefined || word === '1' || word === '2')) {
      // `N>/dev/null` and `N>&M`: the only redirections the simulated shell takes.
      const fd = word === '2' ? 'err' : 'out';
      word = undefined;
      const m = /^>?\s*(&[12]|\/dev\/null)(?=$|[\s;&|])/.exec(script.slice(i + 1));
      if (!m) throw new ShellSyntaxError(`'>' (redirection other than to /dev/null) is not supported by the simulated shell`);
      if (m[1] === '/dev/null') discard = { out: false, err: false, ...discard, [fd]: true };
      i += m[0].length;
    } else if (c === '*') {
      word = (word ?? '') + STAR;
    } else if ('|&<>`$()'.includes(c)) {
      throw new ShellSyntaxError(`'${c}' (pipes, redirections, background jobs, substitutions) is not supported by the simulated shell`);
    } else word = (word ?? '') + c;
  }
  endWord();
  if (words.length === 0 && op !== ';') throw new ShellSyntaxError(`syntax error: '${op}' unexpected`);
  if (words.length > 0) steps.push({ op, words, ...(discard ? { discard } : {}) });
  return steps;
}

interface Io {
  out: string;
  /** What the running command's redirections drop. */
  discard?: { out: boolean; err: boolean };
  cwd: string;
  signal?: AbortSignal;
}

type Builtin = (phone: SimPhone, args: string[], io: Io) => Promise<number>;

class ExitScript extends Error {
  constructor(readonly code: number) {
    super('exit');
  }
}

const resolvePath = (io: Io, p: string) => {
  const abs = posix.normalize(p.startsWith('/') ? p : posix.join(io.cwd, p));
  return abs.length > 1 ? abs.replace(/\/+$/, '') : abs;
};

const print = (io: Io, text: string) => {
  if (!io.discard?.out) io.out += text;
};

/** What Android's commands write to stderr: the same output, unless `2>/dev/null` drops it. */
const printErr = (io: Io, text: string) => {
  if (!io.discard?.err) io.out += text;
};

/** Short options (`-la`) and the remaining operands. */
function options(args: string[]): { flags: Set<string>; rest: string[] } {
  const flags = new Set<string>();
  const rest: string[] = [];
  for (const a of args) {
    if (a.startsWith('--')) flags.add(a);
    else if (a.startsWith('-') && a.length > 1 && rest.length === 0) for (const f of a.slice(1)) flags.add(f);
    else rest.push(a);
  }
  return { flags, rest };
}

/**
 * A decimal integer as the shell reads one: an optional sign and digits, nothing else (no 0x10,
 * 1e3, Infinity or spaces), within [min, max].
 */
function integer(text: string, min: number, max: number): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

const UNIT_MS: Record<string, number> = { '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** toybox sleep's DURATION in ms: a decimal fraction with an optional s, m, h or d. */
function duration(text: string | undefined): number | undefined {
  const m = text === undefined ? null : /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
}

/** Wait `ms` on the phone's clock in steps a timer takes (a longer delay would fire at once); the signal cuts it short. */
async function pause(phone: SimPhone, ms: number, signal?: AbortSignal): Promise<void> {
  for (let left = ms; left > 0; left -= MAX_TIMER_MS) await phone.sleep(Math.min(left, MAX_TIMER_MS), signal);
}

const pad2 = (n: number) => String(n).padStart(2, '0');
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `date` in UTC (the simulated phones' timezone), with a few `+FORMAT` directives. */
function formatDate(ms: number, format?: string): string {
  const d = new Date(ms);
  const parts: Record<string, string> = {
    a: DAYS[d.getUTCDay()]!,
    b: MONTHS[d.getUTCMonth()]!,
    d: pad2(d.getUTCDate()),
    e: String(d.getUTCDate()).padStart(2, ' '),
    H: pad2(d.getUTCHours()),
    M: pad2(d.getUTCMinutes()),
    S: pad2(d.getUTCSeconds()),
    m: pad2(d.getUTCMonth() + 1),
    Y: String(d.getUTCFullYear()),
    Z: 'UTC',
    s: String(Math.floor(ms / 1000)),
    '%': '%',
  };
  return (format ?? '%a %b %e %H:%M:%S %Z %Y').replace(/%(.)/g, (m, c: string) => parts[c] ?? m);
}

function modeString(n: FileNode): string {
  const bits = 'rwxrwxrwx';
  let s = n.kind === 'dir' ? 'd' : '-';
  for (let i = 0; i < 9; i++) s += n.mode & (1 << (8 - i)) ? bits[i] : '-';
  return s;
}

function longLine(n: FileNode, name: string): string {
  const d = new Date(n.mtime);
  const when = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
  return `${modeString(n)} ${n.kind === 'dir' ? 2 : 1} ${n.owner} ${n.group} ${n.size} ${when} ${name}\n`;
}

const ls: Builtin = async (phone, args, io) => {
  const { flags, rest } = options(args);
  const long = flags.has('l');
  const targets = rest.length ? rest : ['.'];
  let code = 0;
  for (const [i, target] of targets.entries()) {
    const path = resolvePath(io, target);
    const node = await phone.stat(path);
    if (!node) {
      printErr(io, `ls: ${target}: No such file or directory\n`);
      code = 1;
      continue;
    }
    if (node.kind === 'file') {
      print(io, long ? longLine(node, target) : `${target}\n`);
      continue;
    }
    if (targets.length > 1) print(io, `${i > 0 ? '\n' : ''}${target}:\n`);
    const children = await phone.list(path);
    if (long) print(io, `total ${children.length * 8}\n`);
    for (const c of children) print(io, long ? longLine(c, posix.basename(c.path)) : `${posix.basename(c.path)}\n`);
  }
  return code;
};

/**
 * `rm [-r] [-f] PATH…`: what was written on the phone goes; the image's own files are read-only, and
 * an image directory stays once what was written in it is gone (as Android makes /sdcard's again).
 */
const rm: Builtin = async (phone, args, io) => {
  const { flags, rest } = options(args);
  const recursive = flags.has('r') || flags.has('R');
  const force = flags.has('f');
  if (rest.length === 0 && !force) {
    printErr(io, 'rm: Need 1 argument\n');
    return 1;
  }
  let status = 0;
  for (const target of rest) {
    const path = resolvePath(io, target);
    const node = await phone.stat(path);
    if (!node) {
      if (!force) {
        printErr(io, `rm: ${target}: No such file or directory\n`);
        status = 1;
      }
      continue;
    }
    if (node.kind === 'dir' && !recursive) {
      printErr(io, `rm: ${target}: Is a directory\n`);
      status = 1;
      continue;
    }
    if ((await phone.remove(path)) === 0 && node.kind === 'file') {
      printErr(io, `rm: ${target}: Read-only file system\n`);
      status = 1;
    }
  }
  return status;
};

const cat: Builtin = async (phone, args, io) => {
  let code = 0;
  for (const target of args) {
    const node = await phone.stat(resolvePath(io, target));
    if (!node) {
      printErr(io, `cat: ${target}: No such file or directory\n`);
      code = 1;
    } else if (node.kind === 'dir') {
      printErr(io, `cat: ${target}: Is a directory\n`);
      code = 1;
    } else print(io, (node.content ?? Buffer.alloc(0)).toString('utf8'));
  }
  return code;
};

const getprop: Builtin = async (phone, args, io) => {
  const props = phone.properties();
  if (args.length === 0) {
    for (const name of Object.keys(props).sort()) print(io, `[${name}]: [${props[name]}]\n`);
  } else print(io, `${props[args[0]!] ?? args[1] ?? ''}\n`);
  return 0;
};

const PM_USAGE = 'usage: pm list packages [-3] [-s] [-f] [--show-versioncode] [FILTER] | pm path PACKAGE | pm uninstall [-k] PACKAGE\n';

const pm: Builtin = async (phone, args, io) => {
  const [sub, ...more] = args;
  if (sub === 'list' && more[0] === 'packages') {
    const { flags, rest } = options(more.slice(1));
    const filter = rest[0] ?? '';
    for (const p of await phone.packages()) {
      if ((flags.has('3') && p.system) || (flags.has('s') && !p.system) || !p.name.includes(filter)) continue;
      const path = flags.has('f') ? `${p.apkPath}=` : '';
      const version = flags.has('--show-versioncode') ? ` versionCode:${p.versionCode}` : '';
      print(io, `package:${path}${p.name}${version}\n`);
    }
    return 0;
  }
  if (sub === 'path' && more.length === 1) {
    const p = await phone.installed(more[0]!);
    if (!p) return 1;
    // Split APKs sit beside the base one, as split_<name>.apk.
    for (const path of [p.apkPath, ...p.splits.map((s) => posix.join(posix.dirname(p.apkPath), `split_${s}.apk`))]) print(io, `package:${path}\n`);
    return 0;
  }
  if (sub === 'uninstall') {
    const name = options(more).rest[0];
    if (!name) {
      printErr(io, PM_USAGE);
      return 1;
    }
    if (await phone.uninstall(name)) {
      print(io, 'Success\n');
      return 0;
    }
    print(io, 'Failure [DELETE_FAILED_INTERNAL_ERROR]\n');
    return 1;
  }
  printErr(io, PM_USAGE);
  return 1;
};

const dumpsys: Builtin = async (phone, args, io) => {
  if (args[0] !== 'package' || !args[1]) {
    printErr(io, 'The simulated phone answers only: dumpsys package PACKAGE\n');
    return 1;
  }
  const p = await phone.installed(args[1]);
  if (!p) {
    print(io, `Unable to find package: ${args[1]}\n`);
    return 0;
  }
  print(io, `Packages:\n  Package [${p.name}]:\n    codePath=${posix.dirname(p.apkPath)}\n    versionCode=${p.versionCode} targetSdk=${phone.android.sdk}\n    versionName=${p.versionName}\n`);
  return 0;
};

/** `wm size|density [value|reset]`: overrides are kept where Android keeps them, in settings. */
const wm: Builtin = async (phone, args, io) => {
  const [what, value] = args;
  const d = phone.display();
  const spec =
    what === 'size'
      ? { ns: 'global', key: 'display_size_forced', label: 'size', physical: `${d.width}x${d.height}`, parts: 2, stored: (v: string) => v.replace('x', ','), shown: (v: string) => v.replace(',', 'x') }
      : what === 'density'
        ? { ns: 'secure', key: 'display_density_forced', label: 'density', physical: String(d.density), parts: 1, stored: (v: string) => v, shown: (v: string) => v }
        : undefined;
  if (!spec) {
    printErr(io, 'usage: wm size [WxH|reset] | wm density [DPI|reset]\n');
    return 1;
  }
  if (value === 'reset') {
    await phone.deleteSetting(spec.ns, spec.key);
    return 0;
  }
  if (value !== undefined) {
    const numbers = value.split('x');
    if (numbers.length !== spec.parts || numbers.some((n) => !/^\d+$/.test(n) || integer(n, 1, 2 ** 31 - 1) === undefined)) {
      printErr(io, `Error: bad ${spec.label} ${value}\n`);
      return 255;
    }
    await phone.putSetting(spec.ns, spec.key, spec.stored(value));
    return 0;
  }
  const forced = await phone.setting(spec.ns, spec.key);
  print(io, `Physical ${spec.label}: ${spec.physical}\n${forced ? `Override ${spec.label}: ${spec.shown(forced)}\n` : ''}`);
  return 0;
};

const NAMESPACES = new Set(['system', 'secure', 'global']);

const settings: Builtin = async (phone, args, io) => {
  const [verb, ns, key, ...value] = args;
  if (!verb || !ns || !NAMESPACES.has(ns)) {
    printErr(io, `Invalid namespace '${ns ?? ''}'. usage: settings get|put|delete|list system|secure|global [KEY [VALUE]]\n`);
    return 255;
  }
  if (verb === 'list') {
    for (const [k, v] of await phone.settings(ns)) print(io, `${k}=${v}\n`);
    return 0;
  }
  if (!key) {
    printErr(io, 'settings: a KEY is needed\n');
    return 255;
  }
  if (verb === 'get') print(io, `${(await phone.setting(ns, key)) ?? 'null'}\n`);
  else if (verb === 'put' && value.length > 0) await phone.putSetting(ns, key, value.join(' '));
  else if (verb === 'delete') print(io, `Deleted ${await phone.deleteSetting(ns, key)} rows\n`);
  else {
    printErr(io, 'usage: settings get|put|delete|list system|secure|global [KEY [VALUE]]\n');
    return 255;
  }
  return 0;
};

const uname: Builtin = async (phone, args, io) => {
  const { flags } = options(args);
  const all = flags.has('a');
  const fields: [string, string][] = [
    ['s', 'Linux'],
    ['n', 'localhost'],
    ['r', phone.kernelRelease],
    ['v', '#1 SMP PREEMPT'],
    ['m', 'aarch64'],
  ];
  const chosen = fields.filter(([f]) => all || flags.has(f)).map(([, v]) => v);
  print(io, `${(chosen.length ? chosen : ['Linux']).join(' ')}${all ? ' Toybox' : ''}\n`);
  return 0;
};

const ROOT_ID = 'uid=0(root) gid=0(root) groups=0(root),1004(input),1007(log),1011(adb),1015(sdcard_rw),1028(sdcard_r),3001(net_bt_admin),3002(net_bt),3003(inet),3006(net_bw_stats),3009(readproc),3011(uhid) context=u:r:su:s0';

const BUILTINS: Record<string, Builtin> = {
  cat,
  cd: async (phone, args, io) => {
    const path = resolvePath(io, args[0] ?? '/');
    const node = await phone.stat(path);
    if (node?.kind !== 'dir') {
      printErr(io, `${SH}: cd: ${args[0]}: No such file or directory\n`);
      return 2;
    }
    io.cwd = path;
    return 0;
  },
  date: async (phone, args, io) => {
    const format = args.find((a) => a.startsWith('+'));
    print(io, `${formatDate(phone.now(), format?.slice(1))}\n`);
    return 0;
  },
  dumpsys,
  echo: async (_phone, args, io) => {
    const noNewline = args[0] === '-n';
    print(io, (noNewline ? args.slice(1) : args).join(' ') + (noNewline ? '' : '\n'));
    return 0;
  },
  exit: async (_phone, args, io) => {
    if (args[0] === undefined) throw new ExitScript(0);
    const n = integer(args[0], -(2 ** 31), 2 ** 31 - 1);
    if (n === undefined) {
      // mksh (Android's sh) still exits, with status 1.
      printErr(io, `${SH}: exit: ${args[0]}: bad number\n`);
      throw new ExitScript(1);
    }
    throw new ExitScript(n & 0xff);
  },
  false: async () => 1,
  getprop,
  id: async (_phone, _args, io) => {
    print(io, `${ROOT_ID}\n`);
    return 0;
  },
  ls,
  pm,
  pwd: async (_phone, _args, io) => {
    print(io, `${io.cwd}\n`);
    return 0;
  },
  rm,
  settings,
  sleep: async (phone, args, io) => {
    const ms = duration(args[0]);
    if (ms === undefined) {
      printErr(io, `sleep: invalid number '${args[0] ?? ''}'\n`);
      return 1;
    }
    await pause(phone, ms, io.signal);
    return 0;
  },
  true: async () => 0,
  uname,
  whoami: async (_phone, _args, io) => {
    print(io, 'root\n');
    return 0;
  },
  wm,
};

/**
 * A word with an unquoted `*` in its last path segment (`/sdcard/*`, `*.txt`) becomes the names it
 * matches in that directory, sorted, dot-files left out; a pattern that matches nothing stays as
 * written, as sh leaves it. A `*` before the last `/` is taken as written.
 */
async function expandWord(phone: SimPhone, word: string, io: Io): Promise<string[]> {
  if (!word.includes(STAR)) return [word];
  const literal = word.replaceAll(STAR, '*');
  const slash = word.lastIndexOf('/');
  const [dirPart, pattern] = slash < 0 ? ['', word] : [word.slice(0, slash + 1), word.slice(slash + 1)];
  if (dirPart.includes(STAR) || !pattern.includes(STAR)) return [literal];
  const dir = resolvePath(io, dirPart === '' ? '.' : dirPart);
  const escape = (t: string) => t.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`^${pattern.split(STAR).map(escape).join('.*')}$`);
  const names = (await phone.list(dir)).map((n) => posix.basename(n.path)).filter((n) => !n.startsWith('.') && match.test(n));
  return names.length === 0 ? [literal] : names.sort().map((n) => dirPart + n);
}

/**
 * Run a script on a simulated phone. Resolves with its output and exit status (that of the last
 * command run); throws ShellAborted, with the output so far, when `signal` aborts it.
 */
export async function runShell(phone: SimPhone, script: string, signal?: AbortSignal): Promise<CommandResult> {
  const io: Io = { out: '', cwd: '/', signal };
  let steps: Step[];
  try {
    steps = parseScript(script);
  } catch (err) {
    if (err instanceof ShellSyntaxError) return { exitCode: 2, output: `${SH}: ${err.message}\n` };
    throw err;
  }
  let status = 0;
  try {
    for (const step of steps) {
      if ((step.op === '&&' && status !== 0) || (step.op === '||' && status === 0)) continue;
      signal?.throwIfAborted();
      io.discard = step.discard;
      const words: string[] = [];
      for (const w of step.words) words.push(...(await expandWord(phone, w.replaceAll(LAST_STATUS, String(status)), io)));
      const [name, ...args] = words as [string, ...string[]];
      const builtin = Object.hasOwn(BUILTINS, name) ? BUILTINS[name] : undefined;
      if (!builtin) {
        printErr(io, `${SH}: ${name}: not found\n`);
        status = 127;
        continue;
      }
      status = await builtin(phone, args, io);
    }
  } catch (err) {
    if (err instanceof ExitScript) return { exitCode: err.code, output: io.out };
    if (signal?.aborted) throw new ShellAborted(io.out);
    throw err;
  }
  return { exitCode: status, output: io.out };
}
