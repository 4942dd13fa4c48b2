import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { ClientBuilder } from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder.js';
import type { HcClient, HttpRequestOptions } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';
import { Logger4jInstance } from '@huaweicloud/huaweicloud-sdk-core/logger/log4jLogger.js';

/**
 * A typed client for the 52 operations of the official SDK's CphClient (cph-api.md §3), which is
 * not on the npm registry. Each method builds the request the SDK builds (method, path with
 * {project_id}, query, JSON body, content-type application/json) and sends it through the SDK
 * core's HcClient, so the URL, the headers, the AK/SK signature and the exceptions
 * (httpStatusCode, errorCode, errorMsg, requestId) are the SDK's own. Field names are the wire's.
 */

// ---------- shared shapes (cph-api.md §3, §4) ----------

/** What every successful call answers, as the SDK returns it: the body plus the HTTP status. */
export interface SdkAnswer {
  httpStatusCode: number;
}
export interface RequestIdOnly extends SdkAnswer {
  request_id: string;
}
export interface WithError extends RequestIdOnly {
  error_code?: string | null;
  error_msg?: string | null;
}
export interface PhoneJob {
  phone_id: string;
  job_id?: string;
  error_code?: string | null;
  error_msg?: string | null;
}
export interface ServerJob {
  server_id: string;
  job_id?: string;
  error_code?: string | null;
  error_msg?: string | null;
}
export interface EncodeServerJob {
  encode_server_id: string;
  job_id?: string;
  error_code?: string | null;
  error_msg?: string | null;
}
export interface PhoneJobs extends RequestIdOnly {
  jobs: PhoneJob[];
}
export interface ServerJobs extends RequestIdOnly {
  jobs: ServerJob[];
}
export interface PageQuery {
  offset?: number;
  limit?: number;
}

/** ListJobs `Job` (§2.1); ShowJob answers the same fields plus request_id. */
export interface Job {
  phone_id?: string;
  server_id?: string;
  node_id?: string;
  encode_server_id?: string;
  job_id: string;
  begin_time?: string | null;
  end_time?: string | null;
  status: number;
  error_code?: string | null;
  error_msg?: string | null;
  execute_msg?: string | null;
}

export interface Phone {
  phone_name: string;
  server_id: string;
  phone_id: string;
  phone_model_name: string;
  image_id: string;
  image_version?: string;
  vnc_enable?: string;
  status: number;
  type: number;
  imei?: string;
  traffic_type?: string;
  volume_mode?: number;
  availability_zone?: string;
  metadata?: { order_id?: string; product_id?: string };
  has_encrypt?: boolean;
  create_time: string;
  update_time: string;
}
export interface PhoneAccessInfo {
  type?: string;
  device_ip?: string;
  phone_ip?: string;
  listen_port?: number;
  access_ip?: string;
  public_ip?: string;
  intranet_ip?: string;
  server_ip?: string;
  access_port?: number;
  phone_ipv6?: string;
  server_ipv6?: string;
}
export interface PhoneDetail extends Phone, SdkAnswer {
  request_id: string;
  access_infos: PhoneAccessInfo[];
  property?: string;
  phone_data_volume?: { volume_type?: string; volume_size?: number };
}
export interface Address {
  intranet_ip?: string;
  access_ip?: string;
  server_ip?: string;
  public_ip?: string;
}
export interface Bandwidth {
  band_width_name?: string;
  band_width_id: string;
  band_width_size: number;
  band_width_charge_mode?: number;
  band_width_share_type?: number;
  create_time?: string;
  update_time?: string;
}
export interface Volume {
  volume_name?: string;
  volume_id?: string;
  volume_size: number;
  volume_type?: string;
  create_time?: string;
  update_time?: string;
}
export interface Server {
  server_name: string;
  availability_zone?: string;
  server_id: string;
  server_model_name: string;
  phone_model_name: string;
  keypair_name?: string;
  status: number;
  vpc_id?: string;
  cidr?: string;
  vpc_cidr?: string;
  subnet_id?: string;
  subnet_cidr?: string;
  addresses?: Address[];
  resource_project_id?: string;
  metadata?: { product_id?: string; order_id?: string; charging_mode?: number };
  network_version?: string;
  enterprise_project_id?: string;
  create_time: string;
  update_time: string;
}
export interface ServerDetail extends Server, SdkAnswer {
  request_id: string;
  band_widths?: Bandwidth[];
  volumes?: Volume[];
  share_volume_info?: { volume_type?: string; size?: number; version?: number };
  security_groups?: string[];
}
export interface PhoneModel {
  server_model_name: string;
  phone_model_name: string;
  status: number;
  cpu: number;
  memory: number;
  disk: number;
  resolution: string;
  extend_spec: string;
  spec_code: string;
  phone_capacity: number;
  image_label: string;
  product_type: number;
  phone_model_version?: number;
  dpi?: number;
  fps?: string;
  volume_mode?: number;
  render_fps?: number;
  stream_fps?: number;
}
export interface ServerModel {
  server_model_name: string;
  server_type: string;
  cpu: number;
  memory: number;
  extend_spec: {
    cpu?: string;
    memory?: string;
    disk?: string;
    network_interface?: string;
    gpu?: string;
    bms_flavor?: string;
    gpu_count?: number;
    numa_count?: number;
    os_volume?: { size?: number; volume_type?: string };
  };
  disk_max_num: number;
  product_type: number;
  free_size: number;
}
export interface PhoneImage {
  image_name: string;
  os_type: string;
  is_public: number;
  os_name: string;
  image_label: string;
  image_id: string;
  is_support_encrypt?: boolean;
}
export interface ListImagesView {
  domain_id?: string;
  image_name: string;
  update_time?: string;
  create_time?: string;
  image_size?: number;
  project_id?: string;
  image_id: string;
  image_version?: string;
  image_type: string;
  status: number;
  src_project_id?: string;
}
export interface ImageMember {
  create_time: number;
  update_time: number;
  image_id: string;
  member_id: string;
}
export interface EncodeServerAccessInfo {
  listen_port?: number;
  access_ip?: string;
  intranet_ip?: string;
  public_ip?: string;
  server_ip?: string;
  access_port?: number;
  type?: string;
  server_ipv6?: string;
}
export interface EncodeServer {
  encode_server_name: string;
  encode_server_id: string;
  encode_server_ip?: string;
  server_id: string;
  keypair_name?: string;
  type: number;
  status: number;
  access_infos?: EncodeServerAccessInfo[];
  encode_server_ipv6?: string;
}
export interface Tag {
  key: string;
  value: string;
}
export interface TagValues {
  key: string;
  values: string[];
}

// ---------- request bodies ----------

export interface PhoneProperty {
  phone_id: string;
  property?: string;
}
export interface RestartOrResetBody {
  image_id?: string;
  phones: PhoneProperty[];
}
export interface CommandBody {
  command: string;
  content: string;
  phone_ids?: string[];
  server_ids?: string[];
}
export interface Port {
  name: string;
  listen_port: number;
  internet_accessible: string;
}
export interface Nic {
  subnet_id: string;
  ipv6_enable?: boolean;
  ipv6_bandwidth?: { band_width_id: string };
}
export interface PublicIp {
  ids?: string[];
  eip?: { type: string };
  count?: number;
}
export interface BandWidthParam {
  band_width_id?: string;
  band_width_size?: number;
  band_width_charge_mode: number;
  band_width_share_type: number;
}
export interface VolumeParam {
  volume_type: string;
  size: number;
}
/** What a phone server is set up with, when bought (§3.3.1) or changed (§3.3.3). */
export interface PhoneServerSetup {
  phone_model_name: string;
  image_id: string;
  keypair_name?: string;
  ports?: Port[];
  tenant_vpc_id: string;
  nics: Nic[];
  public_ip: PublicIp;
  phone_count_per_ip?: number;
  phone_data_volume?: VolumeParam;
  server_share_data_volume?: VolumeParam;
  band_width: BandWidthParam;
  availability_zone?: string;
  property?: string;
}
/** §3.3.1 */
export interface CreateNet2ServerBody extends PhoneServerSetup {
  server_name: string;
  server_model_name: string;
  count: number;
  extend_param: { charging_mode: number; period_type: number; period_num: number; is_auto_pay?: number; is_auto_renew?: number; enterprise_project_id?: string };
}
/** §3.3.2 */
export interface CreateSingleServerBody {
  server_name: string;
  server_model_name: string;
  count: number;
  order_param: { charging_mode: number; period_type: number; period_num: number; is_auto_pay?: number; is_auto_renew?: number };
  nics: { subnet_id: string; ipv6_enable?: boolean; ipv6_band_width_id?: string }[];
  public_ip: { ids?: string[]; type?: string; count?: number; band_width: BandWidthParam };
  availability_zone?: string;
  data_volume?: { volume_type: string; size: number; count?: number };
  keypair_name: string;
  enterprise_project_id?: string;
  image_id?: string;
}
/** §3.3.3: availability_zone is kept when absent. */
export interface ChangeServerBody extends PhoneServerSetup {
  extend_param?: { enterprise_project_id?: string };
}
export interface OrderAnswer extends WithError {
  order_id: string;
  product_id: string;
}
export interface CreateServerAnswer extends OrderAnswer {
  server_ids: string[];
}
export interface ListResourceInstancesBody {
  action: 'filter' | 'count';
  offset?: string;
  limit?: string;
  without_any_tag?: boolean;
  tags?: TagValues[];
  matches?: { key: string; value: string }[];
}
export interface ResourceInstance {
  resource_id: string;
  resource_detail?: unknown;
  resource_name: string;
  tags: Tag[];
}


/** The project tag operations are for (§3.10: the only value). */
const CPH_SERVER = 'cph-server';

export class CphClient {
  readonly hc: HcClient;

  constructor(
    readonly endpoint: string,
    ak: string,
    sk: string,
    readonly projectId: string,
  ) {
    // The SDK logs every refused call in full to stdout; the tests assert what matters.
    Logger4jInstance.level = 'off';
    const credentials = new BasicCredentials().withAk(ak).withSk(sk).withProjectId(projectId);
    this.hc = new ClientBuilder<HcClient>((hc) => hc).withCredential(credentials).withEndpoint(endpoint).build();
  }

  /** As the generated SDK code does: path params substituted by HcClient, only defined query values sent. */
  private send<T>(method: string, url: string, o: { path?: Record<string, string>; query?: object; body?: object } = {}): Promise<T & SdkAnswer> {
    const queryParams = Object.fromEntries(Object.entries(o.query ?? {}).filter(([, v]) => v !== undefined && v !== null));
    const options: HttpRequestOptions = { method, url, contentType: 'application/json', queryParams, pathParams: o.path ?? {}, headers: {} };
    if (o.body !== undefined) options.data = o.body as Record<string, unknown>;
    return this.hc.sendRequest<T & SdkAnswer>(options);
  }

  // ---------- 3.1 phones ----------
  listCloudPhones(q: PageQuery & { phone_name?: string; server_id?: string; status?: number; type?: number } = {}) {
    return this.send<{ phones: Phone[]; request_id: string; count: number }>('GET', '/v1/{project_id}/cloud-phone/phones', { query: q });
  }
  showCloudPhoneDetail(r: { phone_id: string }) {
    return this.send<PhoneDetail>('GET', '/v1/{project_id}/cloud-phone/phones/{phone_id}', { path: r });
  }
  updatePhoneName(r: { phone_id: string; body: { phone_name: string } }) {
    return this.send<RequestIdOnly>('PUT', '/v1/{project_id}/cloud-phone/phones/{phone_id}', { path: { phone_id: r.phone_id }, body: r.body });
  }
  resetCloudPhone(r: { body: RestartOrResetBody }) {
    return this.send<PhoneJobs>('POST', '/v1/{project_id}/cloud-phone/phones/batch-reset', { body: r.body });
  }
  restartCloudPhone(r: { body: RestartOrResetBody }) {
    return this.send<PhoneJobs>('POST', '/v1/{project_id}/cloud-phone/phones/batch-restart', { body: r.body });
  }
  stopCloudPhone(r: { body: { phone_ids: string[] } }) {
    return this.send<PhoneJobs>('POST', '/v1/{project_id}/cloud-phone/phones/batch-stop', { body: r.body });
  }
  updateCloudPhoneProperty(r: { body: { phones: { phone_id: string; property: string }[] } }) {
    return this.send<PhoneJobs>('POST', '/v1/{project_id}/cloud-phone/phones/batch-update-property', { body: r.body });
  }
  batchShowPhoneConnectInfos(r: { body: { phone_ids: string[]; client_type: string } }) {
    return this.send<{
      request_id: string;
      connect_infos: { phone_id: string; access_info: { access_ip?: string; intranet_ip?: string; access_ipv6?: string; access_port?: number; session_id?: string; timestamp?: string; ticket?: string } }[];
      errors: { phone_id: string; error_code: string; error_msg: string }[];
    }>('POST', '/v1/{project_id}/cloud-phone/phones/batch-connection', { body: r.body });
  }
  expandPhoneDataVolumeSize(r: { body: { phones: { phone_id: string; new_size: number }[] } }) {
    return this.send<PhoneJobs>('POST', '/v1/{project_id}/cloud-phone/phones/expand-volume', { body: r.body });
  }
  importTraffic(r: { body: { traffic_type: string; phone_ids: string[] } }) {
    return this.send<PhoneJobs>('POST', '/v1/{project_id}/cloud-phone/phones-traffic', { body: r.body });
  }

  // ---------- 3.2 commands ----------
  installApk(r: { body: CommandBody }) {
    return this.send<PhoneJobs>('POST', '/v1/{project_id}/cloud-phone/phones/commands', { body: r.body });
  }
  uninstallApk(r: { body: CommandBody }) {
    return this.send<PhoneJobs>('POST', '/v1/{project_id}/cloud-phone/phones/commands', { body: r.body });
  }
  pushFile(r: { body: CommandBody }) {
    return this.send<PhoneJobs>('POST', '/v1/{project_id}/cloud-phone/phones/commands', { body: r.body });
  }
  runShellCommand(r: { body: CommandBody }) {
    return this.send<PhoneJobs>('POST', '/v1/{project_id}/cloud-phone/phones/commands', { body: r.body });
  }
  runSyncCommand(r: { body: CommandBody }) {
    return this.send<{ request_id: string; jobs: (PhoneJob & { status: number; execute_msg?: string | null })[] }>('POST', '/v1/{project_id}/cloud-phone/phones/sync-commands', { body: r.body });
  }

  // ---------- 3.3 servers ----------
  listCloudPhoneServers(
    q: PageQuery & { server_name?: string; server_id?: string; network_version?: string; phone_model_name?: string; create_since?: number; create_until?: number; status?: number } = {},
  ) {
    return this.send<{ request_id: string; count: number; servers: Server[] }>('GET', '/v1/{project_id}/cloud-phone/servers', { query: q });
  }
  showCloudPhoneServerDetail(r: { server_id: string }) {
    return this.send<ServerDetail>('GET', '/v1/{project_id}/cloud-phone/servers/{server_id}', { path: r });
  }
  updateServerName(r: { server_id: string; body: { server_name: string } }) {
    return this.send<WithError>('PUT', '/v1/{project_id}/cloud-phone/servers/{server_id}', { path: { server_id: r.server_id }, body: r.body });
  }
  restartCloudPhoneServer(r: { body: { server_ids: string[] } }) {
    return this.send<ServerJobs>('POST', '/v1/{project_id}/cloud-phone/servers/batch-restart', { body: r.body });
  }
  updateKeypair(r: { body: { servers: { server_id: string; keypair_name: string }[] } }) {
    return this.send<ServerJobs>('PUT', '/v1/{project_id}/cloud-phone/servers/open-access', { body: r.body });
  }
  createNet2CloudPhoneServer(r: { body: CreateNet2ServerBody }) {
    return this.send<CreateServerAnswer>('POST', '/v2/{project_id}/cloud-phone/servers', { body: r.body });
  }
  createCloudPhoneSingleServer(r: { body: CreateSingleServerBody }) {
    return this.send<CreateServerAnswer>('POST', '/v2.1/{project_id}/cloud-phone/servers', { body: r.body });
  }
  changeCloudPhoneServer(r: { server_id: string; body: ChangeServerBody }) {
    return this.send<WithError & { server_id: string; job_id: string }>('POST', '/v2/{project_id}/cloud-phone/servers/{server_id}/change', { path: { server_id: r.server_id }, body: r.body });
  }
  changeCloudPhoneServerModel(r: { body: { server_id: string; server_model_name: string; phone_model_name: string; extend_param?: { is_auto_pay?: number } } }) {
    return this.send<OrderAnswer>('POST', '/v1/{project_id}/cloud-phone/servers/change-server-model', { body: r.body });
  }
  deleteCloudPhoneServer(r: { body: { server_ids: string[] } }) {
    return this.send<RequestIdOnly & { job_id: string }>('DELETE', '/v2/{project_id}/cloud-phone/servers', { body: r.body });
  }

  // ---------- 3.4 images ----------
  listCloudPhoneImages(q: { image_type?: string } = {}) {
    return this.send<{ request_id: string; phone_images: PhoneImage[] }>('GET', '/v1/{project_id}/cloud-phone/phone-images', { query: q });
  }
  listImages(q: PageQuery & { image_type?: string; status?: number; image_id?: string; image_name?: string; create_since?: number; create_until?: number; src_project_id?: string } = {}) {
    return this.send<{ image_infos: ListImagesView[]; total: number; request_id: string }>('GET', '/v1/{project_id}/cloud-phone/images', { query: q });
  }
  deleteImage(r: { image_id: string }) {
    return this.send<WithError>('DELETE', '/v1/{project_id}/cloud-phone/images/{image_id}', { path: r });
  }
  addImageMember(r: { image_id: string; body: { member?: string } }) {
    return this.send<WithError>('POST', '/v1/{project_id}/cloud-phone/images/{image_id}/members', { path: { image_id: r.image_id }, body: r.body });
  }
  listImageMembers(r: { image_id: string }) {
    return this.send<{ members: ImageMember[] }>('GET', '/v1/{project_id}/cloud-phone/images/{image_id}/members', { path: r });
  }
  updateImageMember(r: { image_id: string; body: { status: 'accepted' | 'rejected' } }) {
    return this.send<RequestIdOnly>('PUT', '/v1/{project_id}/cloud-phone/images/{image_id}/members', { path: { image_id: r.image_id }, body: r.body });
  }
  deleteImageMember(r: { image_id: string; member_id: string }) {
    return this.send<WithError>('DELETE', '/v1/{project_id}/cloud-phone/images/{image_id}/members/{member_id}', { path: r });
  }

  // ---------- 3.5 models ----------
  listCloudPhoneModels(q: PageQuery & { status?: number } = {}) {
    return this.send<{ request_id: string; phone_models: PhoneModel[] }>('GET', '/v1/{project_id}/cloud-phone/phone-models', { query: q });
  }
  listCloudPhoneServerModels(q: { product_type?: number } = {}) {
    return this.send<{ request_id: string; server_models: ServerModel[] }>('GET', '/v1/{project_id}/cloud-phone/server-models', { query: q });
  }

  // ---------- 3.6 encode servers ----------
  listEncodeServers(q: PageQuery & { type?: number; status?: number; server_id?: string } = {}) {
    return this.send<{ request_id: string; encode_servers: EncodeServer[] }>('GET', '/v1/{project_id}/cloud-phone/encode-servers', { query: q });
  }
  restartEncodeServer(r: { body: { encode_server_ids: string[] } }) {
    return this.send<{ request_id: string; jobs: EncodeServerJob[] }>('POST', '/v1/{project_id}/cloud-phone/encode-servers/batch-restart', { body: r.body });
  }

  // ---------- 3.7 bandwidth ----------
  showBandwidthDetail(q: PageQuery = {}) {
    return this.send<{ request_id: string; band_widths: Bandwidth[] }>('GET', '/v1/{project_id}/cloud-phone/bandwidths', { query: q });
  }
  updateBandwidth(r: { band_width_id: string; body: { band_width_size: number } }) {
    return this.send<WithError>('PUT', '/v1/{project_id}/cloud-phone/bandwidths/{band_width_id}', { path: { band_width_id: r.band_width_id }, body: r.body });
  }

  // ---------- 3.8 data export / import ----------
  batchExportCloudPhoneData(r: { body: { storage_infos: { phone_id: string; include_files: string[]; exclude_files?: string[]; bucket_name: string; object_path: string }[] } }) {
    return this.send<PhoneJobs>('POST', '/v1/{project_id}/cloud-phone/phones/batch-storage', { body: r.body });
  }
  batchImportCloudPhoneData(r: { body: { restore_infos: { phone_id: string; bucket_name: string; object_path: string }[] } }) {
    return this.send<PhoneJobs>('POST', '/v1/{project_id}/cloud-phone/phones/batch-restore', { body: r.body });
  }

  // ---------- 3.9 shared files and apps ----------
  pushShareFiles(r: { body: { bucket_name: string; object_path: string; server_ids: string[] } }) {
    return this.send<ServerJobs>('POST', '/v1/{project_id}/cloud-phone/phones/share-files', { body: r.body });
  }
  deleteShareFiles(r: { body: { server_ids: string[]; file_paths: string[] } }) {
    return this.send<ServerJobs>('POST', '/v1/{project_id}/cloud-phone/phones/share-files', { body: r.body });
  }
  listShareFiles(q: PageQuery & { server_ids: string; path: string }) {
    return this.send<ServerJobs>('GET', '/v1/{project_id}/cloud-phone/servers/share-files', { query: q });
  }
  pushShareApps(r: { body: { package_name: string; pre_install_app?: number; bucket_name: string; object_path: string; server_ids: string[] } }) {
    return this.send<ServerJobs>('POST', '/v1/{project_id}/cloud-phone/phones/share-apps', { body: r.body });
  }
  deleteShareApps(r: { body: { package_name: string; server_ids: string[] } }) {
    return this.send<ServerJobs>('DELETE', '/v1/{project_id}/cloud-phone/phones/share-apps', { body: r.body });
  }

  // ---------- 3.10 tags ----------
  batchCreateTags(r: { resource_id: string; resource_type?: string; body: { action: 'create'; tags: Tag[] } }) {
    return this.send<object>('POST', '/v1/{project_id}/{resource_type}/{resource_id}/tags/action', { path: { resource_type: r.resource_type ?? CPH_SERVER, resource_id: r.resource_id }, body: r.body });
  }
  batchDeleteTags(r: { resource_id: string; resource_type?: string; body: { action: 'delete'; tags: Tag[] } }) {
    return this.send<object>('POST', '/v1/{project_id}/{resource_type}/{resource_id}/tags/action', { path: { resource_type: r.resource_type ?? CPH_SERVER, resource_id: r.resource_id }, body: r.body });
  }
  listResourceTags(r: { resource_id: string; resource_type?: string }) {
    return this.send<{ tags: Tag[] }>('GET', '/v1/{project_id}/{resource_type}/{resource_id}/tags', { path: { resource_type: r.resource_type ?? CPH_SERVER, resource_id: r.resource_id } });
  }
  listProjectTags(r: PageQuery & { resource_type?: string } = {}) {
    return this.send<{ tags: TagValues[]; total_count: number }>('GET', '/v1/{project_id}/{resource_type}/tags', {
      path: { resource_type: r.resource_type ?? CPH_SERVER },
      query: { limit: r.limit, offset: r.offset },
    });
  }
  listResourceInstances(r: { resource_type?: string; body: ListResourceInstancesBody }) {
    return this.send<{ resources?: ResourceInstance[]; total_count: number }>('POST', '/v1/{project_id}/{resource_type}/resource_instances/action', {
      path: { resource_type: r.resource_type ?? CPH_SERVER },
      body: r.body,
    });
  }

  // ---------- 2. jobs ----------
  listJobs(q: PageQuery & { request_id?: string; request_ids?: string }) {
    return this.send<{ request_id: string; jobs: Job[] }>('GET', '/v1/{project_id}/cloud-phone/jobs', { query: q });
  }
  showJob(r: { job_id: string }) {
    return this.send<Job & { request_id: string }>('GET', '/v1/{project_id}/cloud-phone/jobs/{job_id}', { path: r });
  }

  /**
   * Poll until no job is running (status 1): by request id through ListJobs (a request has at least
   * one job, so none listed is not "finished"), or job by job through ShowJob. Returns the jobs.
   */
  async waitForJobs(target: string | string[], timeoutMs = 60_000, everyMs = 50): Promise<Job[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let jobs: Job[];
      if (typeof target === 'string') jobs = (await this.listJobs({ request_id: target, limit: 100 })).jobs;
      else jobs = await Promise.all(target.map((job_id) => this.showJob({ job_id })));
      if (jobs.length > 0 && jobs.every((j) => j.status !== 1)) return jobs;
      if (Date.now() > deadline) throw new Error(`jobs of ${JSON.stringify(target)} still running after ${timeoutMs} ms: ${JSON.stringify(jobs)}`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}

/** The SDK's exception fields (ClientRequestException / ServerResponseException). */
export interface SdkError {
  httpStatusCode?: number;
  errorCode?: string;
  errorMsg?: string;
  requestId?: string;
}

/** The exception a call is refused with, or a failure if it was not refused. */
export async function refusal(call: Promise<unknown>): Promise<SdkError> {
  return call.then(
    (r) => {
      throw new Error(`expected the call to be refused, it answered ${JSON.stringify(r)}`);
    },
    (e: SdkError) => e,
  );
}
