import type { FastifyInstance } from 'fastify';
import { isCommandName, parseCommand, type PhoneCommand, type ShellCommand } from '../../domain/commands.js';
import { CphError, Errors } from '../../domain/errors.js';
import { Limits } from '../../domain/limits.js';
import type { Engine } from '../../engine/engine.js';
import type { CommandTargets } from '../../engine/syncCommands.js';
import { errorBody, errorResponses, projectParams } from '../schemas/common.js';
import { commandsBody, commandsResponse, syncCommandsResponse } from '../schemas/commands.js';

type ProjectParams = { project_id: string };
interface CommandsBody {
  command: string;
  content: string;
  phone_ids?: string[];
  server_ids?: string[];
}

function checkedCommand(body: CommandsBody): PhoneCommand {
  if (!isCommandName(body.command)) throw new CphError(Errors.invalidCommand);
  const parsed = parseCommand(body.command, body.content);
  if (!parsed.ok) throw new CphError(Errors.invalidContent, parsed.reason);
  return parsed.value;
}

function checkedShell(body: CommandsBody): ShellCommand {
  if (body.command !== 'shell') throw new CphError(Errors.invalidCommand, 'Sync commands run shell only.');
  return checkedCommand(body) as ShellCommand;
}

const targetsOf = (body: CommandsBody): CommandTargets => ({ phoneIds: body.phone_ids, serverIds: body.server_ids });

export async function commandRoutes(app: FastifyInstance, { engine }: { engine: Engine }): Promise<void> {
  const tags = ['commands'];
  const config = {
    errorCodes: { command: Errors.invalidCommand, content: Errors.invalidContent, phone_ids: Errors.phoneIdsEmpty },
  };

  app.post<{ Params: ProjectParams; Body: CommandsBody }>(
    '/phones/commands',
    {
      config,
      schema: {
        operationId: 'RunCommand',
        summary: 'Run an adb command (install, install-multiple, uninstall, push, shell) on phones; one job per phone',
        description: "The SDK's InstallApk, UninstallApk, PushFile and RunShellCommand all call this; `command` tells them apart.",
        tags,
        params: projectParams,
        body: commandsBody,
        response: { 200: commandsResponse, ...errorResponses },
      },
    },
    async (req) => {
      const r = await engine.submitCommand(req.id, req.params.project_id, checkedCommand(req.body), targetsOf(req.body));
      return { request_id: r.requestId, jobs: r.jobs };
    },
  );

  const sync = Limits.syncCommands;
  app.post<{ Params: ProjectParams; Body: CommandsBody }>(
    '/phones/sync-commands',
    {
      config,
      schema: {
        operationId: 'RunSyncCommand',
        summary: `Run a shell command on up to ${sync.maxPhones} phones and answer with each output (${sync.perPhoneMs / 1000} s per phone, ${sync.perCallMs / 1000} s per call, ${sync.callsPerWindow} calls per minute per project)`,
        tags,
        params: projectParams,
        body: commandsBody,
        response: { 200: syncCommandsResponse, ...errorResponses, 429: { description: 'Too many sync commands', ...errorBody } },
      },
    },
    async (req, reply) => {
      const r = await engine.runSyncCommand(req.id, req.params.project_id, checkedShell(req.body), targetsOf(req.body));
      if (!r.ok) {
        reply.header('Retry-After', String(r.retryAfterSeconds));
        throw r.error;
      }
      return { request_id: r.requestId, jobs: r.jobs };
    },
  );
}
