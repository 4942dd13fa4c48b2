import type { Command } from 'commander';
import { adbCommands } from './adb.js';
import { configureCommand } from './configure.js';
import { jobsCommand } from './jobs.js';
import { phonesCommand } from './phones.js';
import { serversCommand } from './servers.js';

/** The client verbs of `opencph`: they call a CPH endpoint (OpenCPH or Huawei Cloud) with a profile's credentials. */
export function clientCommands(): Command[] {
  return [configureCommand(), phonesCommand(), serversCommand(), ...adbCommands(), jobsCommand()];
}
