import { jobStatusName, phoneStatusName, serverStatusName } from '../../src/domain/status.js';

export { jobStatusName, phoneStatusName, serverStatusName };

/** How a status is shown: the tile's colour class; the text always says the status too. */
export type Tone = 'ok' | 'busy' | 'off' | 'bad';

export function phoneTone(status: number): Tone {
  if (status === 2) return 'ok';
  if (status < 0) return 'bad';
  if (status === 8 || status === 6) return 'off';
  return 'busy';
}

export function serverTone(status: number): Tone {
  if (status === 5) return 'ok';
  if (status === 2 || status === 12) return 'bad';
  if (status === 8 || status === 10) return 'off';
  return 'busy';
}

export const jobTone = (status: number): Tone => (status === 2 ? 'ok' : status === -1 ? 'bad' : 'busy');

/** The phone statuses a filter offers, in the order people look for them. */
export const PHONE_FILTERS = [2, 4, 3, 1, 7, 8, 6, -7, -6, -5, -9, -8] as const;
