/**
 * The package's public API: `import { startOpenCph } from 'opencph'` starts a server in the
 * caller's process; `OpenCphControl` is the typed client of the test-control API of any server.
 */
export { startOpenCph, type OpenCph, type OpenCphOptions } from './runtime/embed.js';
export {
  OpenCphControl,
  type ClockAdvance,
  type ClockHandle,
  type ClockState,
  type EventsHandle,
  type FaultedPhone,
  type FaultedServer,
  type Faults,
  type FaultsHandle,
  type FaultsRequest,
  type HeldJob,
  type HeldJobsHandle,
  type JobOutcome,
  type NewRule,
  type Rule,
  type RuleMatch,
  type RuleOutcome,
  type RulesHandle,
  type Snapshot,
  type SnapshotsHandle,
} from './client/control.js';
export { type EventStream, type EventStreamOptions, type OpenCphEvent, type OpenCphEventType, type WaitOptions } from './client/events.js';
export { OpenCphApiError, type OpenCphCredentials } from './client/transport.js';
