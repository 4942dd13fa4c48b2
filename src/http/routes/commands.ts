import type { FastifyInstance } from 'fastify';
import { isCommandName, parseCommand, type CommandName, type PhoneCommand } from '../../domain/commands.js';
import { CphError, Errors } from '../../domain/errors.js';
import type { Engine } from '../../engine/engine.js';
import { Operations, type OperationDef } from '../../engine/operations.js';
import type { Submitted } from '../../engine/submit.js';
import { errorResponses, projectParams } from '../schemas/common.js';
import { commandsBody, commandsResponse } from '../schemas/commands.js';

type ProjectParams = { project_id: string };
interface CommandsBody {
  command: string;
  content: string;
  phone_ids?: string[];
  server_ids?: string[];
}

const OPERATION: Record<CommandName, OperationDef> = {
  install: Operations.install,
  'install-multiple': Operations.install,
  uninstall: Operations.uninstall,
  push: Operations.push,
  shell: Operations.shell,
};

function checkedCommand(body: CommandsBody): PhoneCommand {
  if (!isCommandName(body.command)) throw new CphError(Errors.invalidCommand);
  const parsed = parseCommand(body.command, body.content);
  if (!parsed.ok) throw new CphError(Errors.invalidContent, parsed.reason);
  return parsed.value;
}

/** One job per phone: the listed phones, else every phone of the listed servers. */
function submit(engine: Engine, requestId: string, projectId: string, body: CommandsBody, params: Record<string, unknown>): Promise<Submitted> {
  const op = OPERATION[(params.command as PhoneCommand).command];
  if (body.phone_ids) return engine.submitPhones(requestId, projectId, op, body.phone_ids.map((phoneId) => ({ phoneId, params })));
  if (body.server_ids) return engine.submitServerPhones(requestId, projectId, op, body.server_ids, params);
  throw new CphError(Errors.phoneIdsEmpty, 'Give phone_ids or server_ids.');
}

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
      const command = checkedCommand(req.body);
      const r = await submit(engine, req.id, req.params.project_id, req.body, { command });
      return { request_id: r.requestId, jobs: r.jobs };
    },
  );
}
