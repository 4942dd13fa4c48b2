#!/usr/bin/env node
import { Command } from 'commander';
import { clientCommands } from './client/index.js';

const program = new Command('opencph').description(
  'OpenCPH: a self-hostable server for the Huawei Cloud CPH (Cloud Phone Host) API, and a client of that API.',
);
const client = clientCommands();
// A client verb loads none of the server (HTTP, engine, stores): it starts in a fraction of the time.
if (!client.some((c) => c.name() === process.argv[2])) {
  const [{ VERSION }, { serveCommand }, { adminCommand }, { deviceCommand }] = await Promise.all([
    import('../runtime/node.js'),
    import('./serve.js'),
    import('./admin.js'),
    import('./device.js'),
  ]);
  program.version(VERSION).addCommand(serveCommand()).addCommand(adminCommand()).addCommand(deviceCommand());
}
for (const command of client) program.addCommand(command);
program.showHelpAfterError().showSuggestionAfterError();

program.parseAsync(process.argv).catch((err: Error & { exitCode?: number }) => {
  process.stderr.write(`opencph: ${err.message}\n`);
  process.exit(err.name === 'CliError' && err.exitCode ? err.exitCode : 1);
});
