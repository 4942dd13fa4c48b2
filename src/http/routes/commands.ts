import type { FastifyInstance } from 'fastify';
import { isCommandName, parseCommand, type CommandName, type PhoneCommand } from '../../domain/commands.js';
import { CphError, Errors, invalidParameter } from '../../domain/errors.js';
import { Limits } from '../../domain/limits.js';
import type { Engine } from '../../engine/engine.js';
import { Operations, type OperationDef } from '../../engine/operations.js';
import type { Submitted } from '../../engine/submit.js';
import { takeCallSlot } from '../../store/rateLimits.js';
import { errorBody, errorResponses, projectParams } from '../schemas/common.js';
import { commandsBody, commandsResponse, syncCommandsResponse } from '../schemas/commands.js';
import { syncJob } from '../wire.js';

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
function submit(engine: Engine, requestId: string, projectId: string, body: CommandsBody, params: Record<string, unknown>, maxPhones?: number): Promise<Submitted> {
  const op = OPERATION[(params.command as PhoneCommand).command];
  if (body.phone_ids) return engine.submitPhones(requestId, projectId, op, body.phone_ids.map((phoneId) => ({ phoneId, params })));
  if (body.server_ids) return engine.submitServerPhones(requestId, projectId, op, body.server_ids, params, maxPhones);
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
      const start = Date.now();
      if (req.body.command !== 'shell') throw new CphError(Errors.invalidCommand, 'Sync commands run shell only.');
      const command = checkedCommand(req.body);
      if (req.body.phone_ids && req.body.phone_ids.length > sync.maxPhones) throw new CphError(invalidParameter('phone_ids'), `At most ${sync.maxPhones} phones per call.`);
      const projectId = req.params.project_id;
      const now = engine.deps.clock.now();
      const slot = await takeCallSlot(engine.deps.db, engine.deps.dialect, { projectId, name: 'sync-commands', now, windowMs: sync.windowMs, max: sync.callsPerWindow });
      if (!slot.ok) {
        const seconds = Math.ceil(slot.retryAfterMs / 1000);
        reply.header('Retry-After', String(seconds));
        throw new CphError(Errors.tooManySyncCommands, `At most ${sync.callsPerWindow} calls per minute per project; try again in ${seconds} s.`);
      }
      // A command that could not start before the call ends is failed, not run after the caller left.
      const params = { command, timeoutMs: sync.perPhoneMs, notAfter: now + sync.perCallMs };
      const r = await submit(engine, req.id, projectId, req.body, params, sync.maxPhones);
      const done = new Map((await engine.waitForJobs(projectId, r.jobs.map((j) => j.job_id), start + sync.perCallMs)).map((j) => [j.job_id, j]));
      return { request_id: r.requestId, jobs: r.jobs.map((j) => syncJob(j, done.get(j.job_id))) };
    },
  );
}
