import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Tickets of BatchShowPhoneConnectInfos: each call gets a new random session id, and a ticket that is
 * an HMAC-SHA256 of what it grants (project, phone, client type, session, time) under a secret this
 * process draws at start. So a ticket cannot be forged or moved to another phone, and is checked
 * without storing it; a restart (a new secret) ends every ticket issued before.
 */
const SECRET = randomBytes(32);

export interface TicketClaims {
  projectId: string;
  phoneId: string;
  clientType: string;
  sessionId: string;
  /** Milliseconds since the epoch, as the answer's `timestamp` says (a decimal string). */
  timestamp: string;
}

function sign(c: TicketClaims): Buffer {
  return createHmac('sha256', SECRET).update([c.projectId, c.phoneId, c.clientType, c.sessionId, c.timestamp].join('\n'), 'utf8').digest();
}

/** A new session on one phone: its id, time and ticket. */
export function issueTicket(projectId: string, phoneId: string, clientType: string, now: number): { session_id: string; timestamp: string; ticket: string } {
  const claims = { projectId, phoneId, clientType, sessionId: randomBytes(16).toString('hex'), timestamp: String(now) };
  return { session_id: claims.sessionId, timestamp: claims.timestamp, ticket: sign(claims).toString('base64url') };
}

/** Whether `ticket` was issued by this process for exactly these claims. */
export function verifyTicket(ticket: string, claims: TicketClaims): boolean {
  const given = Buffer.from(ticket, 'base64url');
  const expected = sign(claims);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
