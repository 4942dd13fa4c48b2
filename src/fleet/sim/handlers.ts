import type { DriverContext, DriverJob, DriverOutcome } from '../driver.js';
import type { FleetEffects } from '../../domain/fleet.js';
import type { SimOptions } from './driver.js';
import { PHONE_DATA_HANDLERS } from './phoneData.js';
import { SHARE_HANDLERS } from './share.js';
import { ENCODE_SERVER_HANDLERS } from './encodeServers.js';
import { PHONE_EXTRA_HANDLERS } from './phoneExtras.js';
import { SERVER_HANDLERS } from './servers.js';

/**
 * What a simulated operation's handler gets besides its job: the driver's options (state, OBS
 * stand-in) and `work`, which takes the operation's simulated time (`weight` base delays), showing
 * `transition` meanwhile; with no delay configured it is instant and shows nothing.
 */
export interface SimEnv {
  options: SimOptions;
  work(ctx: DriverContext, weight: number, transition?: FleetEffects): Promise<void>;
}

/** One simulated operation. */
export type SimHandler = (job: DriverJob, ctx: DriverContext, env: SimEnv) => Promise<DriverOutcome>;

/** Handlers by operation name, one module per group of operations; the driver looks here first. */
export const SIM_HANDLERS: Readonly<Record<string, SimHandler>> = {
  ...PHONE_DATA_HANDLERS,
  ...SHARE_HANDLERS,
  ...ENCODE_SERVER_HANDLERS,
  ...PHONE_EXTRA_HANDLERS,
  ...SERVER_HANDLERS,
};
