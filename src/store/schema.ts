import type { ColumnType, Generated } from 'kysely';

/** Times are stored as milliseconds since the epoch (bigint) and formatted at the HTTP edge. */
export interface ProjectTable {
  project_id: string;
  name: string;
  created_at: number;
  /** The account owning the project (migration 003). */
  domain_id: string | null;
}

export interface ImageTable {
  image_id: string;
  image_name: string;
  image_version: string;
  os_name: string;
  os_type: string;
  image_label: string;
  /** Null for a public image; else the project owning this private image, and its account (migration 011). */
  project_id: ColumnType<string | null, string | null | undefined, string | null>;
  domain_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** 0 CREATING, 1 PRODUCTION, 2 CREATE_FAILED. */
  status: ColumnType<number, number | undefined, number>;
  /** Bytes. */
  image_size: ColumnType<number, number | undefined, number>;
  create_time: ColumnType<number, number | undefined, number>;
  update_time: ColumnType<number, number | undefined, number>;
  is_support_encrypt: ColumnType<number, number | undefined, number>;
}

/** A project a private image is shared to (migration 011); only an accepted share makes it usable. */
export interface ImageMemberTable {
  image_id: string;
  project_id: string;
  status: 'pending' | 'accepted' | 'rejected';
  create_time: number;
  update_time: number;
}

/** A server model of the catalogue (cph-api.md §4.3 ServerModel). */
export interface ServerModelTable {
  server_model_name: string;
  server_type: string;
  cpu: number;
  /** GiB. */
  memory: number;
  /** ServerModel.extend_spec as JSON text. */
  extend_spec: string;
  /** 0: local disks only. */
  disk_max_num: number;
  /** 0 cloud phone, 1 cloud gaming. */
  product_type: number;
  free_size: number;
}

/** A phone model of the catalogue (cph-api.md §4.3 PhoneModel): which server model holds it, and how many. */
export interface PhoneModelTable {
  phone_model_name: string;
  server_model_name: string;
  /** 1 normal, 0 offline (cannot be bought). */
  status: number;
  cpu: number;
  /** MB. */
  memory: number;
  /** GiB. */
  disk: number;
  resolution: string;
  /** A JSON string; holds max_share_disk_size_g when the spec supports shared storage. */
  extend_spec: string;
  spec_code: string;
  /** Phones per server. */
  phone_capacity: number;
  image_label: string;
  product_type: number;
  /** 0 spec 1.0, 1 spec 2.0. */
  phone_model_version: number;
  dpi: number;
  fps: string;
  volume_mode: number;
  render_fps: number;
  stream_fps: number;
}

export interface ServerTable {
  server_id: string;
  project_id: string;
  server_name: string;
  server_model_name: string;
  phone_model_name: string;
  keypair_name: string;
  status: number;
  availability_zone: string;
  network_version: string;
  vpc_id: string;
  subnet_id: string;
  server_ip: string;
  public_ip: string;
  order_id: string;
  product_id: string;
  create_time: number;
  update_time: number;
  /** 0 yearly/monthly (prepaid), 1 on demand (migration 010). */
  charging_mode: number;
  /** A prepaid server's period: 2 month, 3 year; 0 on demand. */
  period_type: number;
  period_num: number;
  is_auto_renew: number;
  enterprise_project_id: string;
  /** The ports it was bought with, as JSON text: [{name, listen_port, internet_accessible}]. */
  ports: string;
  /** share_volume_info: size 0 when the server has no shared volume. */
  share_volume_type: string;
  share_volume_size: number;
}

/** A bandwidth (cph-api.md §4.2 Bandwidth); server_bandwidths says which servers use it. */
export interface BandwidthTable {
  band_width_id: string;
  project_id: string;
  band_width_name: string;
  /** Mbit/s. */
  band_width_size: number;
  /** 0 by bandwidth, 1 by traffic. */
  band_width_charge_mode: number;
  /** 0 dedicated, 1 shared. */
  band_width_share_type: number;
  create_time: number;
  update_time: number;
}

export interface ServerBandwidthTable {
  server_id: string;
  band_width_id: string;
}

/** A server's volume (cph-api.md §4.2 Volume): a phone's data volume, or a bare server's. */
export interface VolumeTable {
  volume_id: string;
  project_id: string;
  server_id: string;
  phone_id: string | null;
  volume_name: string;
  /** GiB. */
  volume_size: number;
  volume_type: string;
  create_time: number;
  update_time: number;
}

export interface PhoneTable {
  phone_id: string;
  project_id: string;
  server_id: string;
  phone_name: string;
  phone_model_name: string;
  image_id: string;
  status: number;
  type: number;
  imei: string;
  traffic_type: string;
  volume_mode: number;
  availability_zone: string;
  has_encrypt: number;
  /** The phone's custom properties as CPH's JSON string (`{"name":"value",…}`). */
  property: string;
  phone_ip: string;
  listen_port: number;
  volume_size: number;
  create_time: number;
  update_time: number;
}

/** An encode server of a server (cph-api.md §4.5): migration 012. */
export interface EncodeServerTable {
  encode_server_id: string;
  project_id: string;
  server_id: string;
  encode_server_name: string;
  encode_server_ip: string;
  keypair_name: string;
  /** 0 server, 1 container. */
  type: number;
  /** The model's values (domain EncodeServerStatus). */
  status: number;
  /** Its one access info: where it listens, on its server's network and publicly. */
  server_ip: string;
  public_ip: string;
  listen_port: number;
  access_port: number;
  create_time: number;
  update_time: number;
}

export interface RequestTable {
  request_id: string;
  project_id: string;
  operation: string;
  created_at: number;
}

export interface JobTable {
  /** Submission order: the stable ListJobs order and the FIFO key. */
  seq: Generated<number>;
  job_id: string;
  project_id: string;
  request_id: string;
  operation: string;
  phone_id: string | null;
  /** For phone jobs the phone's server (CPH's node_id); for server jobs the server itself. */
  server_id: string | null;
  /** Encode-server jobs only (migration 012): their target; phone_id and server_id are null then. */
  encode_server_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Operation parameters as JSON. */
  params: string;
  state: string;
  status: number;
  error_code: string | null;
  error_msg: string | null;
  execute_msg: string | null;
  begin_time: number;
  end_time: number | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  attempts: number;
  /** When a worker last claimed it (migration 019); null until then. */
  start_time: ColumnType<number | null, number | null | undefined, number | null>;
  /** The job as ListJobs shows it, JSON text kept by the database (store/jobItems.ts): read, never written. */
  list_json: ColumnType<string, never, never>;
}

export interface SimRunTable {
  run_id: Generated<number>;
  job_id: string;
  worker: string;
  operation: string;
  phone_id: string | null;
  server_id: string | null;
  started_at: number;
  ended_at: number | null;
}

/** A package the user installed on a simulated phone (system packages come from its image). */
export interface AndroidPackageTable {
  phone_id: string;
  package_name: string;
  version_code: number;
  version_name: string;
  apk_path: string;
  /** Split names of an install-multiple, space-separated; empty for a single APK. */
  splits: string;
  installed_at: number;
}

/** A file or directory written on a simulated phone (by push); the image's own tree is not stored. */
export interface AndroidFileTable {
  phone_id: string;
  /** Absolute, normalized: `/data/local/tmp/a.txt`. */
  path: string;
  /** The directory holding it, so a listing is one indexed lookup. */
  parent: string;
  kind: 'file' | 'dir';
  mode: number;
  size: number;
  mtime: number;
  /** The first bytes of a file (see Limits); null for directories. */
  content: Buffer | null;
}

/** A file or directory of a server's shared storage (`/data/share/a.txt`), seen by every phone of the server. */
export interface SharedFileTable extends Omit<AndroidFileTable, 'phone_id'> {
  server_id: string;
}

/** An app shared with every phone of a server (PushShareApps). */
export interface SharedAppTable {
  server_id: string;
  package_name: string;
  version_code: number;
  version_name: string;
  apk_path: string;
  /** PushShareApps' pre_install_app: 0 or 1. */
  pre_install: number;
  installed_at: number;
}

/** `settings put` values of a simulated phone, by namespace (system, secure, global). */
export interface AndroidSettingTable {
  phone_id: string;
  namespace: string;
  name: string;
  value: string;
}

/** Calls counted against a per-project rate limit (sync commands), shared by every node. */
export interface CallLogTable {
  project_id: string;
  name: string;
  at: number;
}

/** Accounts: IAM calls them domains. */
export interface DomainTable {
  domain_id: string;
  name: string;
  enabled: number;
  created_at: number;
}

export interface UserTable {
  user_id: string;
  domain_id: string;
  name: string;
  /** scrypt, in the self-describing form of `src/auth/password.ts`. */
  password_hash: string;
  enabled: number;
  created_at: number;
  /** Consecutive wrong passwords and the lock they lead to (migration 008), as for access keys. */
  failures: Generated<number>;
  locked_until: number | null;
}

export interface ProjectMemberTable {
  user_id: string;
  project_id: string;
  created_at: number;
}

export interface AccessKeyTable {
  access_key: string;
  secret_key: string;
  user_id: string;
  description: string;
  enabled: number;
  created_at: number;
  /** Consecutive signature failures and the lock they lead to. */
  failures: Generated<number>;
  locked_until: number | null;
}

/** Only the SHA-256 of a token is stored; the token itself is shown once, to whoever asked for it. */
export interface TokenTable {
  token_hash: string;
  user_id: string;
  project_id: string;
  methods: string;
  issued_at: number;
  expires_at: number;
}

/** A tag of a server (migration 014): one row per key of a server. */
/** Adb slots of a server held by a fault (test-control extension): migration 015. */
export interface ServerFaultTable {
  server_id: string;
  project_id: string;
  stuck_adb_slots: number;
  update_time: number;
}

export interface ServerTagTable {
  resource_id: string;
  key: string;
  project_id: string;
  value: string;
}

/** Scripted outcomes of /_opencph (migration 016). */
export interface RuleTable {
  seq: Generated<number>;
  rule_id: string;
  project_id: string;
  match_json: string;
  outcome_json: string;
  /** Uses left; null = every matching job. */
  remaining: number | null;
  matched: ColumnType<number, number | undefined, number>;
  /** Jobs that met the match while the rule was in force (migration 020). */
  seen: ColumnType<number, number | undefined, number>;
  /** 1: the rule refuses at submission; 0: it acts when jobs run (migration 020). */
  refuse: ColumnType<number, number | undefined, number>;
  created_at: number;
}

/** A job a rule holds at status 1 until released (migration 020). */
export interface HeldJobTable {
  job_id: string;
  project_id: string;
  rule_id: string;
  /** The job's attempt that is held: a re-queued job is no longer held by this row. */
  attempt: number;
  since: number;
  /** The outcome the release gave (a rule outcome as JSON); null while held. */
  release_json: string | null;
  released_at: number | null;
}

/** The virtual clock's instant (migration 017): one row, id 1. */
export interface VirtualClockTable {
  id: number;
  now_ms: number;
}

/** A project's state saved under a name (migration 018): its rows as JSON text (store/snapshots.ts). */
export interface SnapshotTable {
  project_id: string;
  name: string;
  created_at: number;
  /** How many rows it holds, all tables together. */
  rows: number;
  data: string;
}

/** A job change or a phone/server status change, written by triggers (store/events.ts, migration 019). */
export interface EventTable {
  seq: Generated<number>;
  project_id: string;
  type: string;
  /** When it happened (ms since the epoch, the injected clock's): the job's or the row's own time. */
  created_at: number;
  /** A job's event: the job (jobs.seq), whose fixed fields are read from it. */
  job_seq: number | null;
  phone_id: string | null;
  server_id: string | null;
  status: number | null;
  previous_status: number | null;
}

/** A project's webhook: where its events are POSTed, and how far delivery has come (migration 019). */
export interface WebhookTable {
  webhook_id: string;
  project_id: string;
  url: string;
  secret: string;
  /** JSON array of event types; null = every type. */
  types: string | null;
  created_at: number;
  /** The last event delivered (or skipped by the type filter): delivery goes on after it. */
  last_event_id: number;
  failures: ColumnType<number, number | undefined, number>;
  last_error: string | null;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
}

/** The adb fleet: which device (its serial on its adb server) each phone is. */
export interface DeviceTable {
  phone_id: string;
  project_id: string;
  server_id: string;
  /** `emulator-5554`, `10.0.0.7:5555`, a USB serial: as `adb devices` lists it. */
  serial: string;
  /** The adb server the device is attached to, `host:port`. */
  adb_server: string;
  create_time: number;
}

export interface Database {
  projects: ProjectTable;
  domains: DomainTable;
  users: UserTable;
  project_members: ProjectMemberTable;
  access_keys: AccessKeyTable;
  tokens: TokenTable;
  server_models: ServerModelTable;
  phone_models: PhoneModelTable;
  images: ImageTable;
  image_members: ImageMemberTable;
  servers: ServerTable;
  bandwidths: BandwidthTable;
  server_bandwidths: ServerBandwidthTable;
  volumes: VolumeTable;
  phones: PhoneTable;
  encode_servers: EncodeServerTable;
  server_tags: ServerTagTable;
  server_faults: ServerFaultTable;
  requests: RequestTable;
  jobs: JobTable;
  sim_runs: SimRunTable;
  android_packages: AndroidPackageTable;
  android_files: AndroidFileTable;
  android_settings: AndroidSettingTable;
  call_log: CallLogTable;
  shared_files: SharedFileTable;
  shared_apps: SharedAppTable;
  rules: RuleTable;
  held_jobs: HeldJobTable;
  virtual_clock: VirtualClockTable;
  snapshots: SnapshotTable;
  events: EventTable;
  webhooks: WebhookTable;
  devices: DeviceTable;
}
