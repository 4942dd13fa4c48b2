/**
 * The fleet as its drivers see it (simulated phones, or real devices behind adb): what a job acts
 * on and what it changes. The engine maps stored rows to these, so a driver never knows the store.
 */

export interface Phone {
  phoneId: string;
  serverId: string;
  name: string;
  /** CPH's phone model (`rx1.cp.c15.d46.e1v1`): its looks and hardware. */
  modelName: string;
  imageId: string;
  /** PhoneStatus. */
  status: number;
  /** Custom system properties as CPH's JSON string (`{"name":"value",…}`). */
  property: string;
  /** Where its adb listens, on its server's network. */
  ip: string;
  listenPort: number;
  createTime: number;
  /** Its data volume, GiB. */
  volumeSize: number;
  /** `direct` or `routing` (through its server's encode container). */
  trafficType: string;
}

export interface Server {
  serverId: string;
  name: string;
  /** ServerStatus. */
  status: number;
  ip: string;
}

/** An encode server (a container or a server of its own) that encodes its phones' streams. */
export interface EncodeServer {
  encodeServerId: string;
  /** The server it belongs to. */
  serverId: string;
  name: string;
  /** 0 server, 1 container. */
  type: number;
  /** EncodeServerStatus (the model's values). */
  status: number;
  ip: string;
}

export interface Image {
  imageId: string;
  imageName: string;
  imageVersion: string;
  /** `Android 12`: the release its phones run. */
  osName: string;
}

/** What a finished (or starting) operation does to the fleet, applied in the job's transaction. */
export interface FleetEffects {
  phones?: { phoneId: string; status?: number; imageId?: string; property?: string; volumeSize?: number; trafficType?: string }[];
  servers?: { serverId: string; status?: number }[];
  encodeServers?: { encodeServerId: string; status?: number }[];
  /** Servers gone, with their phones, volumes and dedicated bandwidths (DeleteCloudPhoneServer). */
  removedServers?: string[];
  /** What a lifecycle job changes on a server besides its status; a new phone model is every phone's. */
  serverChanges?: ServerChange[];
}

export interface ServerChange {
  serverId: string;
  serverModelName?: string;
  phoneModelName?: string;
  keypairName?: string;
  /** The server's and its phones' new zone (a changed server; absent keeps it). */
  availabilityZone?: string;
  /** GiB of each phone's data volume (a changed server's phone_data_volume). */
  phoneVolumeSize?: number;
}
