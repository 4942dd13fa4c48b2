import type { FastifyInstance } from 'fastify';
import { CphError, Errors, invalidParameter } from '../../domain/errors.js';
import { isResourceId } from '../../domain/ids.js';
import { Operations } from '../../engine/operations.js';
import { getPhoneModel, type ServerModelRow } from '../../store/catalogue.js';
import { getServer } from '../../store/fleet.js';
import { insertServerRows, projectServers } from '../../store/serverOrders.js';
import { batchResponse, errorResponses, projectParams } from '../schemas/common.js';
import {
  changeServerBody,
  changeServerModelBody,
  createNet2Body,
  createSingleBody,
  deleteServersBody,
  jobResponse,
  orderResponse,
  updateKeypairBody,
} from '../schemas/serverOrders.js';
import { serverParams } from '../schemas/fleet.js';
import {
  checkBandwidth,
  checkCharging,
  checkCount,
  checkKeypair,
  checkPorts,
  checkProperty,
  checkServerName,
  checkVolume,
  defaultImageId,
  imageFor,
  orderRows,
  phoneModelFor,
  serverModelNamed,
  type BandWidthIn,
  type Charging,
  type OrderPlan,
  type PortIn,
  type VolumeIn,
} from '../serverOrder.js';
import type { RouteDeps } from '../types.js';

type ProjectParams = { project_id: string };
type ServerParams = ProjectParams & { server_id: string };

interface Nic {
  subnet_id: string;
}
interface Net2Common {
  keypair_name?: string;
  ports?: PortIn[];
  tenant_vpc_id: string;
  nics: Nic[];
  public_ip: { ids?: string[]; eip?: { type: string }; count?: number };
  phone_count_per_ip?: number;
  phone_data_volume?: VolumeIn;
  server_share_data_volume?: VolumeIn;
  band_width: BandWidthIn;
  availability_zone?: string;
  property?: string;
}
interface Net2Body extends Net2Common {
  server_name: string;
  server_model_name: string;
  phone_model_name: string;
  image_id: string;
  count: number;
  extend_param: Charging;
}
interface SingleBody {
  server_name: string;
  server_model_name: string;
  count: number;
  order_param: Charging;
  nics: Nic[];
  public_ip: { ids?: string[]; type?: string; count?: number; band_width: BandWidthIn };
  availability_zone?: string;
  data_volume?: VolumeIn;
  keypair_name: string;
  enterprise_project_id?: string;
  image_id?: string;
}
interface ChangeBody extends Net2Common {
  phone_model_name: string;
  image_id: string;
  extend_param?: { enterprise_project_id?: string };
}

const DEFAULT_ZONE = 'cn-north-4a';

/** Field → code of a body that fails its schema (the rest answer CPS.0034 naming the field). */
const ORDER_CODES = {
  count: Errors.invalidCount,
  phone_model_name: Errors.phoneModelEmpty,
  image_id: Errors.imageIdEmpty,
  band_width: Errors.invalidBandwidth,
  band_width_id: Errors.invalidBandwidth,
  band_width_size: Errors.invalidBandwidth,
  band_width_charge_mode: Errors.invalidBandwidth,
  band_width_share_type: Errors.invalidBandwidth,
};

/**
 * The network part of a CreateNet2CloudPhoneServer or ChangeCloudPhoneServer body, with the phone
 * model it is for: ports, public IPs, phones per IP, volumes (spec 2.0 needs phone_data_volume;
 * shared storage only where the model has it), property.
 */
function checkNet2(body: Net2Common, model: { phone_capacity: number; phone_model_version: number; extend_spec: string }, phoneVolumeMin: number): string {
  checkKeypair(body.keypair_name);
  checkPorts(body.ports);
  const perIp = body.phone_count_per_ip ?? model.phone_capacity;
  if (perIp > model.phone_capacity) throw new CphError(invalidParameter('phone_count_per_ip'), `1 to ${model.phone_capacity} for this phone model.`);
  const ips = Math.ceil(model.phone_capacity / perIp);
  const count = body.public_ip.count ?? 1;
  if (!Number.isInteger(count) || count < 0 || count > ips) throw new CphError(invalidParameter('public_ip.count'), `0 to ${ips}, the phones' IP count.`);
  if (model.phone_model_version === 1 && !body.phone_data_volume) throw new CphError(invalidParameter('phone_data_volume'), 'Phone models of spec 2.0 need phone_data_volume.');
  checkVolume(body.phone_data_volume, 'phone_data_volume', phoneVolumeMin);
  checkVolume(body.server_share_data_volume, 'server_share_data_volume', 10);
  if (body.server_share_data_volume && !/max_share_disk_size_g/.test(model.extend_spec)) {
    throw new CphError(invalidParameter('server_share_data_volume'), 'This phone model has no shared storage.');
  }
  return checkProperty(body.property);
}

/** Under /v1/{project_id}/cloud-phone. */
export async function serverLifecycleRoutes(app: FastifyInstance, { store, engine }: RouteDeps): Promise<void> {
  const db = store.db;
  const tags = ['servers'];

  app.put<{ Params: ProjectParams; Body: { servers: { server_id: string; keypair_name: string }[] } }>(
    '/servers/open-access',
    {
      config: { errorCodes: { server_id: Errors.batchInvalidServerId } },
      schema: { operationId: 'UpdateKeypair', summary: "Change servers' adb key pair", tags, params: projectParams, body: updateKeypairBody, response: { 200: batchResponse('server_id'), ...errorResponses } },
    },
    async (req) => {
      for (const s of req.body.servers) checkKeypair(s.keypair_name);
      const r = await engine.submitServers(
        req.id,
        req.params.project_id,
        Operations.updateKeypair,
        req.body.servers.map((s) => ({ serverId: s.server_id, params: { keypairName: s.keypair_name } })),
      );
      return { request_id: r.requestId, jobs: r.jobs };
    },
  );

  app.post<{ Params: ProjectParams; Body: { server_id: string; server_model_name: string; phone_model_name: string; extend_param?: { is_auto_pay?: number } } }>(
    '/servers/change-server-model',
    {
      config: { errorCodes: { server_id: Errors.invalidServerId, phone_model_name: Errors.phoneModelEmpty } },
      schema: { operationId: 'ChangeCloudPhoneServerModel', summary: 'Move a server to another model of its generation', tags, params: projectParams, body: changeServerModelBody, response: { 200: orderResponse, ...errorResponses } },
    },
    async (req) => {
      const { project_id: projectId } = req.params;
      const b = req.body;
      const server = isResourceId(b.server_id) ? await getServer(store, projectId, b.server_id) : undefined;
      if (!server) throw new CphError(Errors.serverNotFound);
      const target = await serverModelNamed(db, b.server_model_name);
      const current = await serverModelNamed(db, server.server_model_name).catch(() => undefined);
      if (!current || current.server_type !== target.server_type) {
        throw new CphError(invalidParameter('server_model_name'), `Only a model of the same generation (${current?.server_type ?? 'unknown'}) can be chosen.`);
      }
      const phoneModel = await phoneModelFor(db, b.phone_model_name, target.server_model_name);
      const oldPhoneModel = await getPhoneModel(db, server.phone_model_name);
      if (oldPhoneModel && oldPhoneModel.phone_capacity !== phoneModel.phone_capacity) {
        throw new CphError(Errors.invalidPhoneModel, `The server holds ${oldPhoneModel.phone_capacity} phones; ${phoneModel.phone_model_name} holds ${phoneModel.phone_capacity}.`);
      }
      const orderId = engine.deps.ids();
      const productId = engine.deps.ids();
      await engine.submitServers(req.id, projectId, Operations.changeServerModel, [
        { serverId: server.server_id, params: { serverModelName: target.server_model_name, phoneModelName: phoneModel.phone_model_name } },
      ]);
      return { request_id: req.id, order_id: orderId, product_id: productId };
    },
  );
}

/** Full paths: /v2/{project_id}/cloud-phone/… and /v2.1/{project_id}/cloud-phone/…. */
export async function serverOrderRoutes(app: FastifyInstance, { store, engine }: RouteDeps): Promise<void> {
  const db = store.db;
  const tags = ['servers'];

  /** Write the servers and their provisioning jobs (one per server) in one transaction. */
  async function place(requestId: string, plan: OrderPlan) {
    const { rows, orderId, productId } = orderRows(plan, engine.deps.ids, engine.deps.clock.now());
    const targets = rows.servers.map((s) => ({ serverId: s.server_id }));
    await engine.submitNewServers(requestId, plan.projectId, Operations.createServer, targets, (trx) => insertServerRows(trx, rows));
    return { request_id: requestId, order_id: orderId, product_id: productId, server_ids: rows.servers.map((s) => s.server_id) };
  }

  /** A purchase route: `plan` checks the body (after the name, count and server model) and says what to write. */
  function orderRoute<B extends { server_name: string; count: number; server_model_name: string }>(
    path: string,
    operationId: string,
    summary: string,
    body: object,
    plan: (b: B, projectId: string, serverModel: ServerModelRow) => Promise<OrderPlan>,
  ): void {
    app.post<{ Params: ProjectParams; Body: B }>(
      path,
      { config: { errorCodes: ORDER_CODES }, schema: { operationId, summary, tags, params: projectParams, body, response: { 200: orderResponse, ...errorResponses } } },
      async (req) => {
        const b = req.body as B;
        checkServerName(b.server_name);
        checkCount(b.count);
        const serverModel = await serverModelNamed(db, b.server_model_name);
        return place(req.id, await plan(b, req.params.project_id, serverModel));
      },
    );
  }

  orderRoute<Net2Body>('/v2/:project_id/cloud-phone/servers', 'CreateNet2CloudPhoneServer', 'Buy servers with their phones, on your own network', createNet2Body, async (b, projectId, serverModel) => {
    const phoneModel = await phoneModelFor(db, b.phone_model_name, serverModel.server_model_name);
    const image = await imageFor(db, projectId, b.image_id, phoneModel.image_label);
    checkCharging(b.extend_param, 'extend_param');
    const property = checkNet2(b, phoneModel, 1);
    const sharedBandwidthId = await checkBandwidth(db, projectId, b.band_width);
    return {
      projectId,
      serverName: b.server_name,
      count: b.count,
      serverModel,
      phoneModel,
      imageId: image.image_id,
      keypairName: b.keypair_name ?? '',
      availabilityZone: b.availability_zone ?? DEFAULT_ZONE,
      charging: b.extend_param,
      vpcId: b.tenant_vpc_id,
      subnetId: b.nics[0]!.subnet_id,
      ports: b.ports ?? [],
      publicIp: (b.public_ip.ids?.length ?? 0) > 0 || (b.public_ip.count ?? 1) > 0,
      bandwidth: b.band_width,
      sharedBandwidthId,
      phoneVolume: b.phone_data_volume,
      shareVolume: b.server_share_data_volume,
      property,
    };
  });

  orderRoute<SingleBody>('/v2.1/:project_id/cloud-phone/servers', 'CreateCloudPhoneSingleServer', 'Buy bare servers (no phones)', createSingleBody, async (b, projectId, serverModel) => {
    const image = await imageFor(db, projectId, b.image_id ?? defaultImageId(serverModel.server_model_name), undefined);
    checkCharging(b.order_param, 'order_param');
    checkKeypair(b.keypair_name);
    if (b.keypair_name.length === 0) throw new CphError(invalidParameter('keypair_name'));
    const ipCount = b.public_ip.count ?? 0;
    if (ipCount !== 0 && ipCount !== 1) throw new CphError(invalidParameter('public_ip.count'), '0 or 1.');
    checkVolume(b.data_volume, 'data_volume', 1);
    const volumes = b.data_volume?.count ?? 1;
    const maxVolumes = Math.max(1, serverModel.disk_max_num);
    if (!Number.isInteger(volumes) || volumes < 1 || volumes > maxVolumes) throw new CphError(invalidParameter('data_volume.count'), `1 to ${maxVolumes} for this server model.`);
    const sharedBandwidthId = await checkBandwidth(db, projectId, b.public_ip.band_width);
    return {
      projectId,
      serverName: b.server_name,
      count: b.count,
      serverModel,
      imageId: image.image_id,
      keypairName: b.keypair_name,
      availabilityZone: b.availability_zone ?? DEFAULT_ZONE,
      charging: { ...b.order_param, enterprise_project_id: b.enterprise_project_id },
      vpcId: '',
      subnetId: b.nics[0]!.subnet_id,
      ports: [],
      publicIp: (b.public_ip.ids?.length ?? 0) > 0 || ipCount > 0,
      bandwidth: b.public_ip.band_width,
      sharedBandwidthId,
      dataVolume: b.data_volume,
      property: '{}',
    };
  });

  app.delete<{ Params: ProjectParams; Body: { server_ids: string[] } }>(
    '/v2/:project_id/cloud-phone/servers',
    {
      config: { errorCodes: { 'server_ids[]': Errors.invalidServerId } },
      schema: { operationId: 'DeleteCloudPhoneServer', summary: 'Delete on-demand servers with their phones', tags, params: projectParams, body: deleteServersBody, response: { 200: jobResponse, ...errorResponses } },
    },
    async (req) => {
      const projectId = req.params.project_id;
      const ids = [...new Set(req.body.server_ids)];
      const found = new Map((await projectServers(db, projectId, ids.filter(isResourceId))).map((s) => [s.server_id, s]));
      const unknown = ids.find((id) => !found.has(id));
      if (unknown !== undefined) throw new CphError(Errors.invalidServerId, `No server ${unknown} in this project.`);
      const prepaid = ids.filter((id) => found.get(id)!.charging_mode !== 1);
      if (prepaid.length) throw new CphError(Errors.prepaidServer, `Yearly/monthly: ${prepaid.join(', ')}.`);
      // One job for the whole call, filed under its first server, as CPH answers one job_id.
      const r = await engine.submitServers(req.id, projectId, Operations.deleteServer, [{ serverId: ids[0]!, params: { serverIds: ids } }]);
      return { request_id: req.id, job_id: r.jobs[0]!.job_id };
    },
  );

  app.post<{ Params: ServerParams; Body: ChangeBody }>(
    '/v2/:project_id/cloud-phone/servers/:server_id/change',
    {
      config: { errorCodes: { ...ORDER_CODES, server_id: Errors.invalidServerId } },
      schema: { operationId: 'ChangeCloudPhoneServer', summary: 'Move a server to a new physical server; its phones are made again', tags, params: serverParams, body: changeServerBody, response: { 200: jobResponse, ...errorResponses } },
    },
    async (req) => {
      const { project_id: projectId, server_id: serverId } = req.params;
      const b = req.body;
      const server = await getServer(store, projectId, serverId);
      if (!server) throw new CphError(Errors.serverNotFound);
      const phoneModel = await phoneModelFor(db, b.phone_model_name, server.server_model_name);
      const oldPhoneModel = await getPhoneModel(db, server.phone_model_name);
      if (oldPhoneModel && oldPhoneModel.phone_capacity !== phoneModel.phone_capacity) {
        throw new CphError(Errors.invalidPhoneModel, `The server's phones are made again under their ids: ${phoneModel.phone_model_name} must hold ${oldPhoneModel.phone_capacity} phones, as now.`);
      }
      const image = await imageFor(db, projectId, b.image_id, phoneModel.image_label);
      const property = checkNet2(b, phoneModel, 10);
      await checkBandwidth(db, projectId, b.band_width);
      const params: Record<string, unknown> = { phoneModelName: phoneModel.phone_model_name, imageId: image.image_id, property };
      if (b.keypair_name !== undefined) params.keypairName = b.keypair_name;
      if (b.availability_zone !== undefined) params.availabilityZone = b.availability_zone;
      if (b.phone_data_volume) params.phoneVolumeSize = b.phone_data_volume.size;
      const r = await engine.submitServers(req.id, projectId, Operations.changeServer, [{ serverId, params }]);
      return { request_id: req.id, server_id: serverId, job_id: r.jobs[0]!.job_id };
    },
  );
}
