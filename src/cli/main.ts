#!/usr/bin/env node
import { Command } from 'commander';
import { VERSION } from '../runtime/node.js';
import { adminCommand } from './admin.js';
import { deviceCommand } from './device.js';
import { serveCommand } from './serve.js';

const program = new Command('opencph')
  .description('OpenCPH: a self-hostable server for the Huawei Cloud CPH (Cloud Phone Host) API.')
  .version(VERSION)
  .addCommand(serveCommand())
  .addCommand(adminCommand())
  .addCommand(deviceCommand())
  .showHelpAfterError();

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`opencph: ${err.message}\n`);
  process.exit(1);
});
