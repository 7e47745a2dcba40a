/**
 * Limits at the edge, checked before any route runs, so that no one client (a flood of connections, slow sockets,
 * a loop of refused reconnects) takes the process's sockets or its time from the calls in progress:
 *
 * - In total (MAX_CONNECTIONS): past it a new connection is closed as it is accepted. (Not Node's `maxConnections`:
 *   in a cluster worker that hands the connection back to the primary, which offers it again, round and round.)
 * - Per source (MAX_CONNECTIONS_PER_SOURCE): a connection counts against its address from accept until it closes
 *   or proves itself, as a media websocket whose upgrade was signed or whose stream attached with a valid ticket.
 *   Calls in progress never count, so a load test from one address is not capped by it. A connection accepted
 *   past the cap has its request answered 429 HTTP_TOO_MANY_CONNECTIONS and is closed; one that sends no request
 *   is told so after OVER_CAP_GRACE_MS.
 * - Unauthenticated requests (MAX_UNAUTHENTICATED_PER_SECOND): a token bucket per address, twice the rate deep. A
 *   token is spent by a request refused for what it sent (a 4xx: a bad signature, token or ticket, an unknown
 *   route, a bad body, a slow or unparsable request), by a request to a route that takes no credentials (health,
 *   readiness, metrics), and by a media websocket that closes without its stream attaching. A signed webhook or
 *   an attached stream spends nothing. While the bucket is empty, the address's requests and upgrades get 429
 *   HTTP_RATE_LIMITED.
 *
 * TRUSTED_SOURCES (a proxy in front, which then limits per client itself) are exempt from the per-source limits.
 * An IPv6 address counts by its /64, the block one host is usually given. With several workers each process keeps
 * its own counts. Each refusal is counted by code and logged, the log kept small by RefusalLog.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { BlockList, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SessionSubscriber } from '../call/media/session-events.ts';
import { systemClock, type Clock, type Timer } from '../clock.ts';
import type { EdgeLimitsConfig } from '../config/env.ts';
import { ErrorCodes, SwitchboardError } from '../errors.ts';
import type { LogGate, Logger } from '../observability/logger.ts';
import type { ServerMetrics } from '../observability/metrics.ts';
import { sendError } from './http.ts';
import { RefusalLog, type EdgeRefusal } from './refusal-log.ts';

/** Routes that take no credentials: each request to one spends a token. */
const OPEN_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);
/** A connection accepted past its source's cap gets this long to send its request before it is told 429. */
export const OVER_CAP_GRACE_MS = 1000;
/** How often sources with nothing open and a full bucket are forgotten. */
const SWEEP_MS = 10_000;

/** MAX_CONNECTIONS unset: room for twice MAX_CALLS websockets plus webhooks, under the open-files limit. */
export function defaultMaxConnections(maxCalls: number | null, openFiles: number | null): number {
  const wanted = maxCalls === null ? 4096 : 2 * maxCalls + 256;
  // Past the open-files limit accept() fails and nothing answers; stay under it, with room for files and pipes.
  return openFiles === null ? wanted : Math.max(64, Math.min(wanted, openFiles - 256));
}

/** This process's soft limit on open files (Linux); null when it cannot be read or is unlimited. */
export function openFilesLimit(): number | null {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const soft = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1]);
    return soft > 0 ? soft : null;
  } catch {
    return null;
  }
}

/** An address without its zone, an IPv4 address mapped into IPv6 as IPv4. */
function plainAddress(address: string): string {
  const plain = address.split('%')[0]!;
  return plain.toLowerCase().startsWith('::ffff:') && isIP(plain.slice(7)) === 4 ? plain.slice(7) : plain;
}

/** The key an address counts under: IPv4 as is (also when mapped into IPv6), IPv6 by its /64. */
export function sourceKey(address: string): string {
  const plain = plainAddress(address);
  if (isIP(plain) !== 6) return plain;
  const [head = '', tail] = plain.split('::');
  const front = head === '' ? [] : head.split(':');
  const back = tail ? tail.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : [];
  const groups =
    tail === undefined
      ? front
      : [...front, ...Array<string>(8 - front.length - back.length).fill('0'), ...back];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

interface Source {
  readonly key: string;
  /** Connections counted against the cap. */
  open: number;
  tokens: number;
  refilledAt: number;
}

interface Conn {
  /** Null for a trusted source. */
  readonly source: Source | null;
  counted: boolean;
  /** Accepted past its source's cap: the timer that tells it so if no request comes first. */
  over: Timer | null;
  /** A media websocket not yet proven: a token is spent when it closes. */
  unproven: boolean;
  /** Told 429 straight on the socket (past the cap, no request in time): whatever it sends later is not answered. */
  answered: boolean;
}

export interface SourceLimitsOptions {
  /** Null: no limits, only the open connections gauge (an app embedded without a configuration). */
  config: EdgeLimitsConfig | null;
  /** MAX_CALLS, which the default total follows. */
  maxCalls: number | null;
  logger: Logger;
  metrics: ServerMetrics;
  clock?: Clock;
}

export class SourceLimits {
  /** The cap on open connections of this process; null when there are no limits. */
  readonly maxConnections: number | null;
  readonly #config: EdgeLimitsConfig | null;
  readonly #log: Logger;
  readonly #metrics: ServerMetrics;
  readonly #clock: Clock;
  readonly #trusted = new BlockList();
  readonly #sources = new Map<string, Source>();
  readonly #conns = new WeakMap<Duplex, Conn>();
  readonly #refusals: RefusalLog;
  readonly #sweep: Timer | null;
  /** Connections open now, HTTP and websocket. */
  #open = 0;

  constructor(opts: SourceLimitsOptions) {
    const config = opts.config;
    this.#config = config;
    this.#log = opts.logger;
    this.#metrics = opts.metrics;
    this.#clock = opts.clock ?? systemClock;
    for (const range of config?.trustedSources ?? []) {
      const [address = '', bits] = range.split('/');
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.#trusted.addAddress(address, family);
      else this.#trusted.addSubnet(address, Number(bits), family);
    }
    this.maxConnections = config
      ? (config.maxConnections ?? defaultMaxConnections(opts.maxCalls, openFilesLimit()))
      : null;
    this.#refusals = new RefusalLog(opts.logger, this.#clock);
    this.#sweep = config ? this.#clock.every(SWEEP_MS, () => this.#forgetIdle()) : null;
  }

  /** Hold `server`'s connections to the limits. */
  watch(server: Server): void {
    server.on('connection', (socket: Socket) => this.#accepted(socket));
    // Beside the app's own clientError handler, which answers 400 or 408 and closes.
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (err.code !== 'ECONNRESET') this.#clientError(socket);
    });
    const config = this.#config;
    if (config === null) return;
    this.#log.info('edge limits', {
      maxConnections: this.maxConnections,
      maxConnectionsPerSource: config.maxConnectionsPerSource,
      maxUnauthenticatedPerSecond: config.maxUnauthenticatedPerSecond,
      trustedSources: config.trustedSources.length,
    });
  }

  /** Before a request is routed: false when it was answered 429 here. */
  admitRequest(req: IncomingMessage, res: ServerResponse): boolean {
    const conn = this.#conns.get(req.socket);
    if (conn === undefined) return true;
    if (conn.answered) {
      req.socket.destroy();
      return false;
    }
    if (conn.over) {
      conn.over.cancel();
      res.setHeader('connection', 'close');
      answer(res, 'HTTP_TOO_MANY_CONNECTIONS');
      return false;
    }
    const source = conn.source;
    if (source === null) return true;
    if (!this.#hasToken(source)) {
      this.#refuse('HTTP_RATE_LIMITED', source.key);
      answer(res, 'HTTP_RATE_LIMITED');
      return false;
    }
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '');
    if (OPEN_ROUTES.has(path)) this.#spend(source);
    else
      res.once('close', () => {
        if (refusedForWhatItSent(res.statusCode)) this.#spend(source);
      });
    return true;
  }

  /** Before a websocket upgrade: false when it was answered 429 and closed here. */
  admitUpgrade(socket: Duplex): boolean {
    const conn = this.#conns.get(socket);
    if (conn === undefined) return true;
    if (conn.over) {
      conn.over.cancel();
      if (conn.answered) socket.destroy();
      else this.#endRaw(socket, 'HTTP_TOO_MANY_CONNECTIONS');
      return false;
    }
    if (conn.source === null) return true;
    if (!this.#hasToken(conn.source)) {
      this.#refuse('HTTP_RATE_LIMITED', conn.source.key);
      this.#endRaw(socket, 'HTTP_RATE_LIMITED');
      return false;
    }
    conn.unproven = true;
    return true;
  }

  /** The connection proved itself (a signed upgrade, an attached stream): its source no longer answers for it. */
  proven(socket: Duplex): void {
    const conn = this.#conns.get(socket);
    if (conn === undefined) return;
    conn.unproven = false;
    if (conn.counted && conn.source) conn.source.open -= 1;
    conn.counted = false;
  }

  /** A media session's subscriber that proves its connection once the stream has attached to its call. */
  attachWatcher(socket: Duplex): SessionSubscriber {
    return (event) => {
      if (event.type === 'conversation.attached') this.proven(socket);
    };
  }

  /**
   * A gate for the lines `socket`'s connection causes before it proves itself (Logger.gated): the first few of
   * its source in a window go through, the rest are counted in the refusal log's report. Without limits (no
   * edge config) every line goes through.
   */
  gateFor(socket: Duplex): LogGate {
    if (this.#config === null) return everyLine;
    const address = (socket as Partial<Socket>).remoteAddress;
    const key = this.#conns.get(socket)?.source?.key ?? (address === undefined ? null : sourceKey(address));
    return this.#refusals.gate(key);
  }

  /** A request on `socket` could not be parsed or came too slowly: it spends a token. */
  #clientError(socket: Duplex): void {
    const source = this.#conns.get(socket)?.source;
    if (source) this.#spend(source);
  }

  stop(): void {
    this.#sweep?.cancel();
    this.#refusals.stop();
  }

  #accepted(socket: Socket): void {
    const address = socket.remoteAddress;
    if (this.maxConnections !== null && this.#open >= this.maxConnections) {
      this.#refuse('HTTP_SERVER_FULL', address === undefined ? null : sourceKey(address));
      socket.destroy();
      return;
    }
    this.#open += 1;
    this.#metrics.connectionsOpen.set(this.#open);
    const conn = this.#config === null || address === undefined ? null : this.#place(socket, address);
    socket.once('close', () => {
      this.#open -= 1;
      this.#metrics.connectionsOpen.set(this.#open);
      if (conn) this.#closed(conn);
    });
  }

  /** A new connection's place against its source: counted, exempt (trusted), or past the cap and told so. */
  #place(socket: Socket, address: string): Conn {
    const plain = plainAddress(address);
    const trusted = this.#trusted.check(plain, isIP(plain) === 6 ? 'ipv6' : 'ipv4');
    const key = sourceKey(plain);
    const source = trusted ? null : this.#source(key);
    const conn: Conn = { source, counted: false, over: null, unproven: false, answered: false };
    this.#conns.set(socket, conn);
    if (source === null) return conn;
    if (source.open < this.#config!.maxConnectionsPerSource) {
      source.open += 1;
      conn.counted = true;
      return conn;
    }
    this.#refuse('HTTP_TOO_MANY_CONNECTIONS', key);
    conn.over = this.#clock.after(OVER_CAP_GRACE_MS, () => {
      conn.answered = true;
      this.#endRaw(socket, 'HTTP_TOO_MANY_CONNECTIONS');
    });
    return conn;
  }

  /** Answer 429 straight on the socket; a client that does not close it after reading is cut off. */
  #endRaw(socket: Duplex, code: EdgeRefusal): void {
    socket.end(rawAnswer(code));
    this.#clock.after(OVER_CAP_GRACE_MS, () => socket.destroy());
  }

  #closed(conn: Conn): void {
    conn.over?.cancel();
    const source = conn.source;
    if (source === null) return;
    if (conn.counted) source.open -= 1;
    if (conn.unproven) this.#spend(source);
  }

  #source(key: string): Source {
    let source = this.#sources.get(key);
    if (source === undefined) {
      source = { key, open: 0, tokens: this.#burst(), refilledAt: this.#clock.monotonic() };
      this.#sources.set(key, source);
    }
    return source;
  }

  #burst(): number {
    return 2 * (this.#config?.maxUnauthenticatedPerSecond ?? 0);
  }

  #refill(source: Source): void {
    const now = this.#clock.monotonic();
    const rate = this.#config?.maxUnauthenticatedPerSecond ?? 0;
    source.tokens = Math.min(this.#burst(), source.tokens + ((now - source.refilledAt) * rate) / 1000);
    source.refilledAt = now;
  }

  #hasToken(source: Source): boolean {
    this.#refill(source);
    return source.tokens >= 1;
  }

  #spend(source: Source): void {
    this.#refill(source);
    source.tokens = Math.max(0, source.tokens - 1);
  }

  #refuse(code: EdgeRefusal, source: string | null): void {
    this.#metrics.edgeRefusals.inc({ code });
    this.#refusals.refused(code, source);
  }

  /** Sources with nothing open and a full bucket are forgotten: memory follows the live connections. */
  #forgetIdle(): void {
    for (const [key, source] of this.#sources) {
      this.#refill(source);
      if (source.open === 0 && source.tokens >= this.#burst()) this.#sources.delete(key);
    }
  }
}

const everyLine: LogGate = () => true;

/** Refused for what the client sent: a 4xx other than a refusal here (429). */
function refusedForWhatItSent(status: number): boolean {
  return status >= 400 && status < 500 && status !== 429;
}

function answer(res: ServerResponse, code: EdgeRefusal): void {
  res.setHeader('retry-after', '1');
  sendError(res, new SwitchboardError(code, undefined, {}, { retryable: true }));
}

/** The same answer written straight to a socket that is not (or no longer) an HTTP exchange: an upgrade. */
function rawAnswer(code: EdgeRefusal): string {
  const body = JSON.stringify({ error: code, message: ErrorCodes[code], retryable: true });
  return (
    `HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}` +
    `\r\nRetry-After: 1\r\nConnection: close\r\n\r\n${body}`
  );
}
