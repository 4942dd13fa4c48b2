import { Limits } from './limits.js';

/** The adb commands of POST /phones/commands (cph-api.md §3.2). */
export const COMMANDS = ['install', 'install-multiple', 'uninstall', 'push', 'shell'] as const;

/**
 * Job operations that run a command on the phone through adb (rather than change its power state):
 * they need a running phone and take one of their server's adb slots.
 */
export const ADB_OPERATIONS: ReadonlySet<string> = new Set(['phone.install', 'phone.uninstall', 'phone.push', 'phone.shell']);
export type CommandName = (typeof COMMANDS)[number];

export function isCommandName(value: unknown): value is CommandName {
  return typeof value === 'string' && (COMMANDS as readonly string[]).includes(value);
}

/** An object in OBS named as `obs://bucket/key`. */
export interface ObsRef {
  bucket: string;
  key: string;
  uri: string;
}

/**
 * adb's install options, which CPH's own InstallApk example puts before the APK ("-t -r obs://…").
 * -r (replace the installed app) is what Android's package manager does anyway, -t (take a
 * test-only APK) and -g (grant runtime permissions) change nothing on a simulated phone, and -d
 * lets a lower version replace a higher one.
 */
export const INSTALL_OPTIONS: readonly string[] = ['-r', '-t', '-d', '-g'];

/** What a phone is asked to do, once `command` and `content` have been checked. */
export type PhoneCommand =
  | { command: 'install'; apks: ObsRef[]; allowDowngrade: boolean }
  | { command: 'install-multiple'; apks: ObsRef[]; allowDowngrade: boolean }
  | { command: 'uninstall'; packageName: string }
  | { command: 'push'; tar: ObsRef }
  | { command: 'shell'; script: string };

export type ShellCommand = Extract<PhoneCommand, { command: 'shell' }>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** CPH's documented content charset for install, uninstall and push. */
const DOC_CHARSET = /^[A-Za-z0-9_./:-]+$/;
/**
 * Shell content: CPH documents the charset above, which has no space, yet every real command has
 * one (cph-api.md §9 item 14). OpenCPH takes printable ASCII (0x20–0x7E): no control characters,
 * no newlines, nothing outside ASCII.
 */
const SHELL_CHARSET = /^[\x20-\x7e]+$/;
/** OBS bucket names: 3–63 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (reason: string): Parsed<never> => ({ ok: false, reason });

export function parseObsRef(text: string): Parsed<ObsRef> {
  const m = /^obs:\/\/([^/]+)\/(.+)$/.exec(text);
  if (!m) return bad(`"${text}" is not of the form obs://bucket/path.`);
  const [, bucket, key] = m as unknown as [string, string, string];
  if (!BUCKET.test(bucket)) return bad(`"${bucket}" is not a valid OBS bucket name.`);
  // Keys name files under the bucket's folder: no empty, "." or ".." segments.
  if (key.split('/').some((s) => s === '' || s === '.' || s === '..')) return bad(`"${key}" is not a valid object path.`);
  return ok({ bucket, key, uri: text });
}

interface ApkList {
  apks: ObsRef[];
  allowDowngrade: boolean;
}

/** `[options] obs://… [obs://…]`: install options first, then the APKs, separated by spaces. */
function parseApkList(content: string, max: number): Parsed<ApkList> {
  const items = content.trim().split(/ +/);
  const firstApk = items.findIndex((item) => !item.startsWith('-'));
  const options = firstApk < 0 ? items : items.slice(0, firstApk);
  const unknown = options.find((o) => !INSTALL_OPTIONS.includes(o));
  if (unknown !== undefined) return bad(`"${unknown}" is not an install option; use ${INSTALL_OPTIONS.join(', ')}.`);
  const refs = items.slice(options.length);
  if (refs.length === 0) return bad('Give an obs:// APK after the options.');
  if (refs.length > max) return bad(`At most ${max} APKs, separated by spaces.`);
  const apks: ObsRef[] = [];
  for (const item of refs) {
    if (!DOC_CHARSET.test(item)) return bad('Use only letters, digits and _ . / : -.');
    const ref = parseObsRef(item);
    if (!ref.ok) return ref;
    apks.push(ref.value);
  }
  return ok({ apks, allowDowngrade: options.includes('-d') });
}

/** Check `content` for `command` as CPH documents it; the reason explains a refusal. */
export function parseCommand(command: CommandName, content: string): Parsed<PhoneCommand> {
  const bytes = Buffer.byteLength(content, 'utf8');
  const limit = command === 'install-multiple' ? Limits.installMultipleContentBytes : Limits.commandContentBytes;
  if (bytes > limit) return bad(`It is ${bytes} bytes; at most ${limit}.`);
  if (content.trim() === '') return bad('It is empty.');
  switch (command) {
    case 'install': {
      // Several APKs may be given; as on CPH, only the first is installed.
      const list = parseApkList(content, Limits.installMultipleApks);
      return list.ok ? ok({ command, apks: list.value.apks.slice(0, 1), allowDowngrade: list.value.allowDowngrade }) : list;
    }
    case 'install-multiple': {
      const list = parseApkList(content, Limits.installMultipleApks);
      return list.ok ? ok({ command, ...list.value }) : list;
    }
    case 'uninstall':
      return DOC_CHARSET.test(content) ? ok({ command, packageName: content }) : bad('A package name uses only letters, digits and _ . / : -.');
    case 'push': {
      if (!DOC_CHARSET.test(content)) return bad('Use only letters, digits and _ . / : -.');
      const tar = parseObsRef(content);
      return tar.ok ? ok({ command, tar: tar.value }) : tar;
    }
    case 'shell':
      return SHELL_CHARSET.test(content) ? ok({ command, script: content }) : bad('Use printable ASCII only (no control characters or newlines).');
  }
}
