import { posix } from 'node:path';

/**
 * Rules of the data export/restore and shared-storage calls (cph-api.md §3.8, §3.9): what an OBS
 * bucket, an object path, a file path or a package name may look like, and which phone files an
 * export's include/exclude rules select. Each check answers undefined when the value is fine, else
 * why it is not (the detail of a CPS.0034 answer).
 */

export const StorageLimits = {
  filePathBytes: 4096,
  objectPathChars: 1024,
  packageNameBytes: 128,
  /** server_ids of the share calls; CPH documents 1–100 for PushShareApps and applies it here to all. */
  serverIds: { min: 1, max: 100 },
  listShareFiles: { limitMin: 1, limitMax: 50, limitDefault: 50 },
} as const;

/** Roots an export may read and a shared tar may write: the data disk and the cache partition. */
export const DATA_ROOTS = ['/data', '/cache'] as const;

const BUCKET = /^[a-z0-9.-]{3,63}$/;
const OBJECT_PATH = /^[A-Za-z0-9./_+#=-]+$/;
const EXPORT_PATH = /^[A-Za-z0-9./_+#*~=-]+$/;
const SHARE_FILE_PATH = /^[A-Za-z0-9./ _=-]+$/;
const LIST_PATH = /^[A-Za-z0-9.+_/=-]+$/;
const PACKAGE_NAME = /^[A-Za-z.][A-Za-z0-9_.]*$/;

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const hasDotDot = (path: string) => path.split('/').includes('..');

/** An OBS bucket name: 3–63 lower-case letters, digits, `-` and `.`. */
export function bucketProblem(bucket: string): string | undefined {
  return BUCKET.test(bucket) ? undefined : 'A bucket name has 3 to 63 characters: lower-case letters, digits, "-" and ".".';
}

/** An OBS object path: at most 1024 letters, digits and `. / - _ + # =`; `tar` asks for a `.tar` object. */
export function objectPathProblem(path: string, tar = false): string | undefined {
  if (path.length > StorageLimits.objectPathChars || !OBJECT_PATH.test(path)) return 'An object path has at most 1024 characters: letters, digits and ". / - _ + # =".';
  if (path.startsWith('/') || path.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'An object path is a key inside the bucket: no leading "/", no empty, "." or ".." segments.';
  if (tar && !path.toLowerCase().endsWith('.tar')) return 'The object must be a tar file (".tar").';
  return undefined;
}

/** Whether `path` is one of DATA_ROOTS or below one. */
export function underDataRoots(path: string): boolean {
  return DATA_ROOTS.some((root) => path === root || path.startsWith(root + '/'));
}

/**
 * An include_files/exclude_files rule of an export: an absolute path of at most 4096 bytes under
 * /data or /cache, of letters, digits and `. / - _ + # * ~ =`, with `*` only as its last character.
 */
export function exportRuleProblem(rule: string): string | undefined {
  if (bytes(rule) > StorageLimits.filePathBytes) return `A path has at most ${StorageLimits.filePathBytes} bytes.`;
  if (!EXPORT_PATH.test(rule)) return `${JSON.stringify(rule)}: a path has letters, digits and ". / - _ + # * ~ =" only.`;
  if (rule.slice(0, -1).includes('*')) return `${JSON.stringify(rule)}: "*" may only end a path.`;
  if (!rule.startsWith('/') || hasDotDot(rule)) return `${JSON.stringify(rule)}: a path is absolute, without "..".`;
  if (!underDataRoots(ruleFolder(rule))) return `${JSON.stringify(rule)}: only paths under /data and /cache can be exported.`;
  return undefined;
}

/** The folder a rule stays inside: `/data/ab*` and `/data/*` stay in /data, `/data/x/` is /data/x. */
function ruleFolder(rule: string): string {
  if (!rule.endsWith('*')) return trimSlash(rule);
  const prefix = rule.slice(0, -1);
  return prefix.endsWith('/') ? trimSlash(prefix) : posix.dirname(prefix);
}

/**
 * Whether an export rule selects `path`: a rule ending in `*` selects every path that starts with
 * what comes before it; any other rule selects its path and everything below it.
 */
export function ruleSelects(rule: string, path: string): boolean {
  if (rule.endsWith('*')) return path.startsWith(rule.slice(0, -1));
  const base = trimSlash(rule);
  return path === base || path.startsWith(base + '/');
}

/** Include minus exclude: exclude_files wins over include_files. */
export function exportSelects(include: readonly string[], exclude: readonly string[], path: string): boolean {
  return include.some((r) => ruleSelects(r, path)) && !exclude.some((r) => ruleSelects(r, path));
}

/** A file_paths entry of DeleteShareFiles: absolute, ≤4096 bytes, letters, digits, `. / - _ =` and space, no `..`. */
export function shareFilePathProblem(path: string): string | undefined {
  if (bytes(path) > StorageLimits.filePathBytes) return `A path has at most ${StorageLimits.filePathBytes} bytes.`;
  if (!SHARE_FILE_PATH.test(path)) return `${JSON.stringify(path)}: a path has letters, digits, space and ". / - _ =" only.`;
  if (!path.startsWith('/') || path === '/' || hasDotDot(path)) return `${JSON.stringify(path)}: a path is absolute, not "/" alone, without "..".`;
  return undefined;
}

/** The `path` of ListShareFiles: starts with `/`, not `/` alone, no `../` or `//`; letters, digits and `. + - _ / =`. */
export function listPathProblem(path: string): string | undefined {
  if (bytes(path) > StorageLimits.filePathBytes || !LIST_PATH.test(path)) return 'A path has letters, digits and ". + - _ / =" only.';
  if (!path.startsWith('/') || path === '/' || path.includes('//') || hasDotDot(path)) return 'A path starts with "/", is not "/" alone and has no "../" or "//".';
  return undefined;
}

/**
 * An Android package name: at most 128 bytes of letters, digits, `_` and `.`, not starting with a
 * digit or `_`, not ending with `.`, with at least one `.`.
 */
export function packageNameProblem(name: string): string | undefined {
  const ok = bytes(name) <= StorageLimits.packageNameBytes && PACKAGE_NAME.test(name) && !name.endsWith('.') && name.includes('.');
  return ok ? undefined : 'A package name has at most 128 letters, digits, "_" and "."; it does not start with a digit or "_", does not end with "." and has at least one ".".';
}

/** Normalized form of an absolute path: no trailing `/` (a listing of `/data/x/` is that of `/data/x`). */
export function trimSlash(path: string): string {
  return path.replace(/\/+$/, '') || '/';
}
