import { createServer, type Server, type Socket } from 'node:net';
import type { Image, Phone } from '../../domain/fleet.js';
import type { Properties } from '../../domain/property.js';
import type { Clock } from '../../domain/time.js';
import { SimPhone } from '../sim/android.js';
import type { AndroidState } from '../sim/state.js';
import { rawService, shellV2Service, type ShellHost } from './shellService.js';
import { InstallSessions } from './sessions.js';
import { syncService } from './sync.js';
import { Connection, type AdbStream, type Service } from './transport.js';

/** The features this device implements, in the banner it answers CNXN with. */
export const FEATURES = ['shell_v2', 'cmd', 'stat_v2', 'ls_v2', 'fixed_push_mkdir'] as const;

export interface DeviceOptions {
  state: AndroidState;
  phone: Phone;
  /** Reads the phone again when a stream opens, so property updates show; by default the phone given. */
  lookup?: (phoneId: string) => Promise<Phone | undefined>;
  clock: Clock;
  host: string;
  /** 0: any free port (kept across kill/revive and reboots). */
  port: number;
  /** How long a reboot keeps the device offline. */
  rebootMs: number;
  /** How long after a reboot `sys.boot_completed` stays unset. */
  bootMs: number;
  onError?: (err: Error) => void;
}

/** A phone while it boots: `sys.boot_completed` and `dev.bootcomplete` are not set yet. */
class BootingPhone extends SimPhone {
  constructor(
    state: AndroidState,
    phone: Phone,
    image: Image | undefined,
    clock: Clock,
    private readonly booting: () => boolean,
  ) {
    super(state, phone, image, clock);
  }

  override properties(): Properties {
    const props = super.properties();
    if (this.booting()) {
      delete props['sys.boot_completed'];
      delete props['dev.bootcomplete'];
    }
    return props;
  }
}

/** One simulated phone listening as an adb device on its TCP port. */
export class VirtualDevice {
  private server?: Server;
  private readonly connections = new Set<Connection>();
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new InstallSessions();
  private phone: Phone;
  private image?: Image | undefined;
  private bootedAt = 0;
  private delayMs = 0;
  private rebootTimer?: NodeJS.Timeout;
  private stopped = false;
  port: number;

  constructor(private readonly o: DeviceOptions) {
    this.phone = o.phone;
    this.port = o.port;
  }

  get phoneId(): string {
    return this.phone.phoneId;
  }

  get serial(): string {
    return `${this.o.host === '0.0.0.0' || this.o.host === '::' ? '127.0.0.1' : this.o.host}:${this.port}`;
  }

  private booting = () => this.o.clock.now() < this.bootedAt + this.o.bootMs && this.bootedAt > 0;

  /** The phone as it is now (its properties may have been updated since). */
  async simPhone(): Promise<SimPhone> {
    const fresh = this.o.lookup ? await this.o.lookup(this.phone.phoneId) : undefined;
    if (fresh) this.phone = fresh;
    if (this.image === undefined) this.image = await this.o.state.image(this.phone.imageId);
    return new BootingPhone(this.o.state, this.phone, this.image, this.o.clock, this.booting);
  }

  private banner(): string {
    const p = new BootingPhone(this.o.state, this.phone, this.image, this.o.clock, this.booting).properties();
    return `device::ro.product.name=${p['ro.product.name'] ?? ''};ro.product.model=${p['ro.product.model'] ?? ''};ro.product.device=${p['ro.product.device'] ?? ''};features=${FEATURES.join(',')}`;
  }

  private route(destination: string): Service | undefined {
    const host: ShellHost = { phone: () => this.simPhone(), reboot: () => this.rebootSoon(), sessions: this.sessions };
    const colon = destination.indexOf(':');
    if (colon < 0) return undefined;
    const [name, ...args] = destination.slice(0, colon).split(',');
    const rest = destination.slice(colon + 1);
    switch (name) {
      case 'shell': {
        const pty = args.includes('pty') || (!args.includes('raw') && rest.trim() === '');
        return args.includes('v2') ? shellV2Service(host, rest, pty) : rawService(host, rest, pty);
      }
      case 'exec':
        return rawService(host, rest, false);
      case 'sync':
        return syncService(() => this.simPhone());
      case 'reboot':
        return async (stream: AdbStream) => {
          stream.close();
          this.rebootSoon();
        };
      case 'root':
      case 'unroot':
        return async (stream: AdbStream) => stream.write(name === 'root' ? 'adbd is already running as root\n' : 'adbd not running as root\n');
      default:
        return undefined;
    }
  }

  /** Start listening (on the port it had before, once it has one). */
  async listen(): Promise<void> {
    if (this.server) return;
    if (this.image === undefined) this.image = await this.o.state.image(this.phone.imageId);
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    const conn = new Connection(socket, {
      banner: () => this.banner(),
      route: (d) => this.route(d),
      beforeOpen: () => (this.delayMs > 0 ? new Promise((resolve) => setTimeout(resolve, this.delayMs)) : Promise.resolve()),
      onError: this.o.onError,
    });
    this.connections.add(conn);
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.connections.delete(conn);
    });
  }

  /** Stop listening and drop every connection: the device is gone from the network. */
  async goOffline(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of this.connections) c.drop();
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Answer every OPEN only after `ms` (0: at once). */
  slow(ms: number): void {
    this.delayMs = Math.max(0, ms);
  }

  /** Offline for rebootMs, then back with `sys.boot_completed` unset for bootMs. */
  async reboot(): Promise<void> {
    await this.goOffline();
    // Not cancelled by stop: the reboot then ends without listening again.
    await new Promise<void>((resolve) => setTimeout(resolve, this.o.rebootMs));
    if (this.stopped) return;
    this.bootedAt = this.o.clock.now();
    await this.listen();
  }

  private rebootSoon(): void {
    // Let the answer that asked for it reach the host first.
    this.rebootTimer = setTimeout(() => {
      if (!this.stopped) this.reboot().catch((err: Error) => this.o.onError?.(err));
    }, 50);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.rebootTimer);
    await this.goOffline();
  }
}
