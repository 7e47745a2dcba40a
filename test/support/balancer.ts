/**
 * A TCP load balancer standing in, in tests and benchmarks, for the reverse proxy in front of several
 * instances: round-robin over the targets, skipping one that refuses the connection. Bytes are piped as they
 * are, so HTTP and websockets both go through.
 */
import net from 'node:net';

export interface BalancerTarget {
  host: string;
  port: number;
}

/** A GET whose headers ask for a websocket. */
const UPGRADE = /^GET [^\r\n]*\r\n(?:[^\r\n]+\r\n)*?upgrade:[ \t]*websocket/i;

interface Session {
  client: net.Socket;
  upstream: net.Socket;
  target: BalancerTarget;
  websocket: boolean;
}

export class TcpBalancer {
  #targets: BalancerTarget[];
  #next = 0;
  readonly #server: net.Server;
  /** Every live socket, client and upstream alike, so close() can destroy them all. */
  readonly #sockets = new Set<net.Socket>();
  /** Each client connection piped to a target, with that target, so a target's sessions can be cut. */
  readonly #sessions = new Set<Session>();
  #clients = 0;

  constructor(targets: BalancerTarget[]) {
    this.#targets = [...targets];
    // Half-open allowed so a client that shuts its side after a request still gets the response.
    this.#server = net.createServer({ allowHalfOpen: true }, (client) => this.#accept(client));
  }

  /** Client connections currently open (being connected to a target or piped to one). */
  get connections(): number {
    return this.#clients;
  }

  /** Resolves with the port listened on (a free one for port 0). */
  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve((this.#server.address() as net.AddressInfo).port);
      });
    });
  }

  /** Applies to connections accepted from now on; live ones stay where they are. */
  setTargets(targets: BalancerTarget[]): void {
    this.#targets = [...targets];
    this.#next = 0;
  }

  /**
   * Destroys the connections piped to `target`, as a proxy does to the sessions of a server its health check
   * marks down (HAProxy's `on-marked-down shutdown-sessions`): all of them, or only those that became
   * websockets (leaving requests in flight to finish). Returns how many were cut.
   */
  dropSessions(target: BalancerTarget, which: 'all' | 'websockets' = 'all'): number {
    let dropped = 0;
    for (const session of this.#sessions) {
      if (session.target.host !== target.host || session.target.port !== target.port) continue;
      if (which === 'websockets' && !session.websocket) continue;
      session.client.destroy();
      session.upstream.destroy();
      dropped += 1;
    }
    return dropped;
  }

  /** Stops listening and destroys every live connection. */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    return closed;
  }

  #track(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  #accept(client: net.Socket): void {
    this.#track(client);
    this.#clients++;
    client.once('close', () => this.#clients--);
    let upstream: net.Socket | null = null;
    const teardown = () => {
      client.destroy();
      upstream?.destroy();
    };
    client.on('error', teardown);
    client.on('close', teardown);

    // The list as it was when the client arrived, so setTargets() mid-attempt cannot skip or repeat one.
    const targets = this.#targets;
    const first = this.#next;
    this.#next = targets.length === 0 ? 0 : (first + 1) % targets.length;

    const attempt = (tried: number): void => {
      if (client.destroyed) return;
      const target = targets[(first + tried) % targets.length];
      if (tried >= targets.length || target === undefined) {
        teardown();
        return;
      }
      const socket = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
      upstream = socket;
      this.#track(socket);
      // Refused (the instance is down) or failed before connecting: nothing was sent, so the next may serve it.
      const failed = () => {
        socket.destroy();
        attempt(tried + 1);
      };
      socket.once('error', failed);
      socket.once('connect', () => {
        socket.off('error', failed);
        socket.on('error', teardown);
        socket.on('close', teardown);
        const session: Session = { client, upstream: socket, target, websocket: false };
        this.#sessions.add(session);
        client.once('close', () => this.#sessions.delete(session));
        // The first bytes are the request head: an upgrade to a websocket says what the connection is for.
        client.once('data', (head: Buffer) => (session.websocket = UPGRADE.test(head.toString('latin1'))));
        // Data the client sent meanwhile waited in its (paused) socket and flows now.
        client.pipe(socket);
        socket.pipe(client);
      });
    };
    attempt(0);
  }
}
