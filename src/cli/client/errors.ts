import { OpenCphApiError } from '../../client/transport.js';

/** Exit statuses of the client verbs. */
export const Exit = { ok: 0, failed: 1, timeout: 124 } as const;

/** An error the client reports as it is: its message is for a person, `exitCode` for a script. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = Exit.failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** What the call was made with, for messages that say which credential and where. */
export interface CallContext {
  endpoint: string;
  /** Where the endpoint came from: a profile or a variable. */
  endpointSource?: string;
  profile: string;
  projectId: string;
  ak?: string;
  user?: string;
  account?: string;
  /** The call was to IAM for a token. */
  iam?: boolean;
}

const configureHint = (c: CallContext) => `check \`opencph configure${c.profile === 'default' ? '' : ` --profile ${c.profile}`}\``;

/** The hint for a refused credential, from the server's error_code and error_msg (OpenCPH's and Huawei's say the same). */
function hintFor401(e: OpenCphApiError, c: CallContext): string {
  const m = e.error_msg;
  if (e.error_code === 'IAM.0002') return `the user name or password is wrong (user "${c.user}", account "${c.account}"): ${configureHint(c)}`;
  if (e.error_code === 'IAM.0003') return `the user "${c.user}" is disabled`;
  if (e.error_code === 'IAM.0004') return `the user "${c.user}" has no access to project ${c.projectId}: check the project id`;
  if (e.error_code === 'IAM.0006') return `the user "${c.user}" is locked after failed logins: wait, then check the password`;
  if (/ak not exist|Get secretKey failed/i.test(m)) return `the access key ${c.ak ?? ''} is unknown: ${configureHint(c)}`;
  if (/aksk signature fail|signature.*(not match|mismatch)/i.test(m)) return `signature does not match: the secret key is wrong for access key ${c.ak ?? ''} (${configureHint(c)})`;
  if (/expired|15 minutes|X-Sdk-Date/i.test(m) && !/token/i.test(m)) {
    return "this machine's clock and the server's differ by more than 15 minutes (signatures are valid 15 minutes): set this machine's clock (NTP)";
  }
  if (/access key is disabled/i.test(m)) return `the access key ${c.ak ?? ''} is disabled: enable it or make a new one`;
  if (/limit, forbidden|locked/i.test(m)) return `the access key ${c.ak ?? ''} is locked after failed signatures: wait five minutes, then check the secret key`;
  if (/user is disabled/i.test(m)) return 'the user of this credential is disabled';
  if (/token/i.test(m)) return `the IAM token was refused: run the command again to get a new one (${configureHint(c)})`;
  return configureHint(c);
}

/** Any failure of a call, said so that a person can act on it. */
export function explain(err: unknown, c: CallContext): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof OpenCphApiError) {
    const said = `${err.status} ${err.error_code} ${err.error_msg}`.replace(/\s+/g, ' ').trim();
    if (err.status === 401) return new CliError(`${c.iam ? 'IAM refused the login' : 'The server refused the credentials'} (${said}): ${hintFor401(err, c)}.`);
    if (err.status === 403) return new CliError(`Not allowed (${said}): the credential of profile "${c.profile}" has no access to project ${c.projectId}; check the project id.`);
    if (err.status === 429) return new CliError(`Too many calls (${said}): wait a minute and run it again.`);
    return new CliError(`The server answered ${said}.`);
  }
  const e = err as NodeJS.ErrnoException;
  const where = `${c.endpoint}${c.endpointSource ? ` (the endpoint of ${c.endpointSource})` : ''}`;
  switch (e?.code) {
    case 'ECONNREFUSED':
      return new CliError(`Cannot connect to ${where}: connection refused. Is the server running there?`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new CliError(`Cannot connect to ${where}: the host name is not known.`);
    case 'ETIMEDOUT':
    case 'ECONNRESET':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new CliError(`Cannot reach ${where}: ${e.code}.`);
    default:
      if (e?.code?.startsWith?.('ERR_TLS') || /certificate/i.test(e?.message ?? '')) return new CliError(`TLS failed with ${where}: ${e.message}.`);
      return new CliError(e instanceof Error ? e.message : String(err));
  }
}
