import type { ApkInfo } from '../apk.js';
import type { CommandResult } from '../outcome.js';
import type { SimPhone } from '../sim/android.js';
import { installApps } from '../sim/installApps.js';
import { readApkBytes } from './install.js';
import type { Input } from './shellService.js';

/**
 * Install sessions of the package manager, as `adb install-multiple` and the adb fleet drive them:
 * `install-create [flags] [-S TOTAL]` answers `Success: created install session [ID]`;
 * `install-write [-S SIZE] ID NAME [PATH|-]` adds an APK (read from the phone's PATH, or SIZE bytes
 * of stdin for `-` or no path); `install-commit ID` installs the base APK and its splits as one app
 * (the checks of src/fleet/sim/installApps.ts, `-d` of the create allowing a downgrade);
 * `install-abandon ID` drops the session. Reached as `pm …` or `cmd package …`.
 */

/** Bytes of APKs the open sessions of one device may hold together: what a pushed file may be on a virtual device. */
const MAX_SESSION_BYTES = 64 * 1024 * 1024;
/** Sessions open at once on one device (Android allows 1024 per app; a virtual device needs few). */
const MAX_OPEN_SESSIONS = 64;
/** Options of install-create that take a value. */
const WITH_VALUE = new Set(['-S', '-i', '--user', '--install-location', '-p', '--abi', '--referrer', '--originating-uri']);

interface Session {
  flags: Set<string>;
  /** The APKs written, by name: a second write of a name replaces the first. */
  apks: Map<string, Buffer>;
  bytes: number;
}

const VERBS = ['install-create', 'install-write', 'install-commit', 'install-abandon'] as const;
type Verb = (typeof VERBS)[number];

/** The session verb and its arguments, or undefined when the words are another command. */
export function sessionRequest(words: readonly string[]): { verb: Verb; args: string[] } | undefined {
  const rest = words[0] === 'cmd' && words[1] === 'package' ? words.slice(2) : words[0] === 'pm' ? words.slice(1) : undefined;
  const verb = rest?.[0];
  return verb && (VERBS as readonly string[]).includes(verb) ? { verb: verb as Verb, args: rest.slice(1) } : undefined;
}

const TOO_BIG = `Failure [INSTALL_FAILED_INSUFFICIENT_STORAGE: a virtual device keeps sessions of up to ${MAX_SESSION_BYTES} bytes in all]\n`;
const ok = (output: string): CommandResult => ({ exitCode: 0, output });
const failure = (output: string): CommandResult => ({ exitCode: 1, output });

/** One device's open sessions; they outlive a reboot, as Android keeps them. */
export class InstallSessions {
  private readonly open = new Map<number, Session>();
  private nextId = 1_000_000 + Math.floor(Math.random() * 1_000_000_000);

  async run(phone: SimPhone, request: { verb: Verb; args: string[] }, stdin: Input): Promise<CommandResult> {
    const { verb, args } = request;
    if (verb === 'install-create') return this.create(args);
    let size: number | undefined;
    const words: string[] = [];
    for (let i = 0; i < args.length; i++) {
      if (args[i] === '-S') size = Number(args[++i]);
      else if (args[i]!.startsWith('-') && args[i] !== '-') continue;
      else words.push(args[i]!);
    }
    const id = Number(words[0]);
    const session = this.open.get(id);
    if (words[0] === undefined || !Number.isSafeInteger(id)) return failure(`Error: ${verb} needs a session id\n`);
    if (!session) return failure(`Exception occurred while executing '${verb}':\njava.lang.SecurityException: Caller has no access to session ${id}\n`);
    if (verb === 'install-abandon') {
      this.open.delete(id);
      return ok('Success\n');
    }
    if (verb === 'install-commit') {
      this.open.delete(id);
      return this.commit(phone, session);
    }
    const name = words[1];
    if (!name) return failure('Error: install-write needs a split name\n');
    if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0)) return failure('Error: -S needs a size in bytes\n');
    const before = session.apks.get(name)?.length ?? 0;
    // Room left across the device's sessions, asked before any byte is read: a size past it is refused unread.
    const room = MAX_SESSION_BYTES - (this.held() - before);
    if (size !== undefined && size > room) return failure(TOO_BIG);
    const bytes = await this.content(phone, words[2], size, stdin, room);
    if (typeof bytes === 'string') return failure(bytes);
    if (bytes.length > room) return failure(TOO_BIG);
    session.apks.set(name, bytes);
    session.bytes += bytes.length - before;
    return ok(`Success: streamed ${bytes.length} bytes\n`);
  }

  /** Bytes the open sessions hold. */
  private held(): number {
    let n = 0;
    for (const s of this.open.values()) n += s.bytes;
    return n;
  }

  private create(args: string[]): CommandResult {
    if (this.open.size >= MAX_OPEN_SESSIONS) return failure(`Exception occurred while executing 'install-create':\njava.lang.IllegalStateException: Too many active sessions for UID 2000\n`);
    const flags = new Set<string>();
    for (let i = 0; i < args.length; i++) {
      if (WITH_VALUE.has(args[i]!)) i++;
      else if (args[i]!.startsWith('-')) flags.add(args[i]!);
    }
    const id = this.nextId++;
    this.open.set(id, { flags, apks: new Map(), bytes: 0 });
    return ok(`Success: created install session [${id}]\n`);
  }

  /** An APK's bytes: from the phone's file at `path`, else `size` bytes of stdin (all of it without a size); or why not. */
  private async content(phone: SimPhone, path: string | undefined, size: number | undefined, stdin: Input, room: number): Promise<Buffer | string> {
    if (path !== undefined && path !== '-') {
      const file = await phone.stat(path);
      return file?.kind === 'file' ? (file.content ?? Buffer.alloc(0)) : `Error: Unable to open file: ${path}\nConsider using a file under /data/local/tmp/\n`;
    }
    if (size !== undefined) return (await stdin.read(size)) ?? 'Failure [INSTALL_FAILED_INTERNAL_ERROR: the APK ended early]\n';
    const chunks: Buffer[] = [];
    let total = 0;
    for (let c = await stdin.readSome(); c; c = await stdin.readSome()) {
      total += c.length;
      if (total > room) return TOO_BIG;
      chunks.push(c);
    }
    return Buffer.concat(chunks);
  }

  private async commit(phone: SimPhone, session: Session): Promise<CommandResult> {
    if (session.apks.size === 0) return failure('Failure [INSTALL_FAILED_INVALID_APK: No packages staged]\n');
    const infos: ApkInfo[] = [];
    for (const [name, bytes] of session.apks) {
      try {
        infos.push(await readApkBytes(bytes));
      } catch (err) {
        return failure(`Failure [INSTALL_PARSE_FAILED_NOT_APK: Failed to parse ${name}: ${(err as Error).message}]\n`);
      }
    }
    const refused = await installApps(phone, infos, session.flags.has('-d'));
    return refused ? failure(`Failure [${refused}]\n`) : ok('Success\n');
  }
}
