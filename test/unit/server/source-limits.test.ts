import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { test } from 'node:test';
import { configFromEnv, type EdgeLimitsConfig } from '../../../src/config/env.ts';
import { isSwitchboardError } from '../../../src/errors.ts';
import { memoryLogger, type LogRecord } from '../../../src/observability/logger.ts';
import { createServerMetrics, type ServerMetrics } from '../../../src/observability/metrics.ts';
import {
  FIRST_PER_SOURCE,
  PER_WINDOW,
  REFUSAL_WINDOW_MS,
  RefusalLog,
} from '../../../src/server/refusal-log.ts';
import {
  defaultMaxConnections,
  OVER_CAP_GRACE_MS,
  SourceLimits,
  sourceKey,
} from '../../../src/server/source-limits.ts';
import { ManualClock } from '../../fakes/manual-clock.ts';

/** A socket as the limits see it: its peer's address, and what was written to it. */
class FakeSocket extends EventEmitter {
  written = '';
  destroyed = false;
  constructor(readonly remoteAddress: string) {
    super();
  }
  end(text = ''): void {
    this.written += text;
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }
}

/** A response that records its status and body; `finish()` closes it as node:http would. */
class FakeResponse extends EventEmitter {
  status = 200;
  body = '';
  headersSent = false;
  readonly headers: Record<string, string> = {};
  get statusCode(): number {
    return this.status;
  }
  setHeader(name: string, value: string): void {
    this.headers[name] = value;
  }
  writeHead(status: number): this {
    this.status = status;
    return this;
  }
  end(text = ''): void {
    this.body += text;
  }
  finish(status: number): void {
    this.status = status;
    this.emit('close');
  }
}

interface Edge {
  limits: SourceLimits;
  clock: ManualClock;
  records: LogRecord[];
  metrics: ServerMetrics;
  connect(address: string): FakeSocket;
  request(socket: FakeSocket, url?: string): { admitted: boolean; res: FakeResponse };
}

function edge(config: Partial<EdgeLimitsConfig> = {}): Edge {
  const clock = new ManualClock();
  const { logger, records } = memoryLogger('debug', { showPii: true });
  const metrics = createServerMetrics();
  const limits = new SourceLimits({
    config: {
      maxConnections: 100,
      maxConnectionsPerSource: 2,
      maxUnauthenticatedPerSecond: 2,
      trustedSources: [],
      ...config,
    },
    maxCalls: null,
    logger,
    metrics,
    clock,
  });
  const server = new EventEmitter();
  limits.watch(server as unknown as Server);
  return {
    limits,
    clock,
    records,
    metrics,
    connect(address) {
      const socket = new FakeSocket(address);
      server.emit('connection', socket);
      return socket;
    },
    request(socket, url = '/twilio/voice') {
      const res = new FakeResponse();
      const req = { socket, url } as unknown as IncomingMessage;
      return { admitted: limits.admitRequest(req, res as unknown as ServerResponse), res };
    },
  };
}

const errorOf = (res: FakeResponse): string => (JSON.parse(res.body) as { error: string }).error;

test('a source holds at most its cap of connections; the one past it is told 429 and closed', () => {
  const e = edge();
  const [a, b, c] = [e.connect('10.0.0.1'), e.connect('10.0.0.1'), e.connect('10.0.0.1')];
  assert.equal(e.request(a).admitted, true);
  assert.equal(e.request(b).admitted, true);
  const past = e.request(c);
  assert.equal(past.admitted, false);
  assert.equal(past.res.status, 429);
  assert.equal(errorOf(past.res), 'HTTP_TOO_MANY_CONNECTIONS');
  assert.equal(past.res.headers.connection, 'close');
  // Another address is not affected, and a closed connection frees its place.
  assert.equal(e.request(e.connect('10.0.0.2')).admitted, true);
  a.destroy();
  assert.equal(e.request(e.connect('10.0.0.1')).admitted, true);
  assert.equal(e.metrics.edgeRefusals.get({ code: 'HTTP_TOO_MANY_CONNECTIONS' }), 1);
});

test('a connection past the cap that sends nothing is told 429 after the grace, then cut off', () => {
  const e = edge({ maxConnectionsPerSource: 1 });
  e.connect('10.0.0.1');
  const idle = e.connect('10.0.0.1');
  e.clock.advance(OVER_CAP_GRACE_MS);
  assert.match(idle.written, /^HTTP\/1\.1 429 .*"error":"HTTP_TOO_MANY_CONNECTIONS"/s);
  assert.equal(idle.destroyed, false, 'it may read the answer first');
  e.clock.advance(OVER_CAP_GRACE_MS);
  assert.equal(idle.destroyed, true);
});

test('a proven connection (a signed or attached stream) no longer counts against its source', () => {
  const e = edge({ maxConnectionsPerSource: 1 });
  const stream = e.connect('10.0.0.1');
  assert.equal(e.limits.admitUpgrade(stream as never), true);
  e.limits.attachWatcher(stream as never)({ type: 'conversation.attached' }, 0);
  assert.equal(e.request(e.connect('10.0.0.1')).admitted, true);
});

test('trusted sources are not limited per source', () => {
  const e = edge({ maxConnectionsPerSource: 1, trustedSources: ['10.1.0.0/16', 'fd00::1'] });
  for (const address of ['10.1.2.3', '10.1.2.3', '::ffff:10.1.9.9', 'fd00::1', 'fd00::1']) {
    const { admitted } = e.request(e.connect(address), '/nope');
    assert.equal(admitted, true, address);
  }
  assert.equal(e.request(e.connect('10.2.0.1')).admitted, true);
  assert.equal(e.request(e.connect('10.2.0.1')).admitted, false);
});

test('refused requests and open routes spend the allowance; when it is spent, 429 until it refills', () => {
  const e = edge({ maxConnectionsPerSource: 100, maxUnauthenticatedPerSecond: 2 });
  const socket = e.connect('10.0.0.1');
  // Signed webhooks that succeed spend nothing.
  for (let i = 0; i < 10; i++) e.request(socket).res.finish(200);
  // Twice the rate at once: two refused requests, and two to routes that take no credentials.
  e.request(socket, '/nope').res.finish(404);
  e.request(socket, '/twilio/voice').res.finish(403);
  assert.equal(e.request(socket, '/healthz').admitted, true);
  assert.equal(e.request(socket, '/metrics?x=1').admitted, true);
  const limited = e.request(socket);
  assert.equal(limited.admitted, false);
  assert.equal(limited.res.status, 429);
  assert.equal(errorOf(limited.res), 'HTTP_RATE_LIMITED');
  assert.equal(limited.res.headers['retry-after'], '1');
  // Another address has its own allowance; this one gets one back after half a second.
  assert.equal(e.request(e.connect('10.0.0.2')).admitted, true);
  e.clock.advance(499);
  assert.equal(e.request(socket).admitted, false);
  e.clock.advance(1);
  assert.equal(e.request(socket, '/healthz').admitted, true);
  assert.equal(e.request(socket).admitted, false);
});

test('a media websocket that closes without attaching spends the allowance; an attached one does not', () => {
  const e = edge({ maxConnectionsPerSource: 100, maxUnauthenticatedPerSecond: 1 });
  const attached = e.connect('10.0.0.1');
  e.limits.admitUpgrade(attached as never);
  e.limits.proven(attached as never);
  attached.destroy();
  for (let i = 0; i < 2; i++) {
    const refused = e.connect('10.0.0.1');
    assert.equal(e.limits.admitUpgrade(refused as never), true);
    refused.destroy();
  }
  const next = e.connect('10.0.0.1');
  assert.equal(e.limits.admitUpgrade(next as never), false);
  assert.match(next.written, /^HTTP\/1\.1 429 .*"error":"HTTP_RATE_LIMITED"/s);
});

test('past the total cap a connection is closed as it is accepted', () => {
  const e = edge({ maxConnections: 3, maxConnectionsPerSource: 100 });
  const open = [1, 2, 3].map((n) => e.connect(`10.0.0.${n}`));
  const dropped = e.connect('10.0.0.4');
  assert.equal(dropped.destroyed, true);
  assert.equal(e.metrics.edgeRefusals.get({ code: 'HTTP_SERVER_FULL' }), 1);
  assert.equal(e.metrics.connectionsOpen.get(), 3);
  open[0]!.destroy();
  assert.equal(e.connect('10.0.0.4').destroyed, false);
});

test('refusals are logged without the address in the text, then counted per window', () => {
  const e = edge({ maxConnectionsPerSource: 1 });
  for (let i = 0; i < 10; i++) e.connect('10.0.0.1');
  const lines = e.records.filter((r) => r.code === 'HTTP_TOO_MANY_CONNECTIONS');
  assert.equal(lines.length, FIRST_PER_SOURCE);
  assert.equal(lines[0]!.msg, 'connection refused: too many from one source');
  assert.deepEqual(lines[0]!.pii, { source: '10.0.0.1' });
  e.clock.advance(REFUSAL_WINDOW_MS);
  const counted = e.records.find((r) => r.msg === 'more refusals at the edge, counted');
  assert.deepEqual(counted?.refused, { HTTP_TOO_MANY_CONNECTIONS: 10 - 1 - FIRST_PER_SOURCE });
  assert.equal(counted?.sources, 1);
});

test('a flood from many sources logs at most PER_WINDOW lines a window', () => {
  const clock = new ManualClock();
  const { logger, records } = memoryLogger();
  const log = new RefusalLog(logger, clock);
  for (let i = 0; i < 1000; i++) log.refused('HTTP_RATE_LIMITED', `10.0.${i >> 8}.${i & 255}`);
  assert.equal(records.length, PER_WINDOW);
  clock.advance(REFUSAL_WINDOW_MS);
  assert.equal(records.length, PER_WINDOW + 1);
  assert.deepEqual(records.at(-1)!.refused, { HTTP_RATE_LIMITED: 1000 - PER_WINDOW });
  assert.equal(records.at(-1)!.sources, 1000 - PER_WINDOW);
  clock.advance(REFUSAL_WINDOW_MS);
  assert.equal(records.length, PER_WINDOW + 1, 'a quiet window reports nothing');
  log.refused('HTTP_RATE_LIMITED', '10.0.0.1');
  assert.equal(records.length, PER_WINDOW + 2, 'each window starts afresh');
  log.stop();
});

test("a connection's own lines share its source's allowance: the first few logged, the rest counted by code", () => {
  const e = edge();
  const { logger, records } = memoryLogger();
  const noisy = e.connect('10.0.0.1');
  const other = e.connect('10.0.0.2');
  // The app's logger, gated for the connection; a child keeps the gate, as a call's bound logger does.
  const log = (socket: FakeSocket) =>
    logger.gated(e.limits.gateFor(socket as never)).child({ callId: 'CA1' });
  for (let i = 0; i < 50; i++) log(noisy).warn('media stream rejected', { code: 'MEDIA_BAD_JSON' });
  log(noisy).warn('bad http request', {});
  log(other).warn('websocket upgrade refused', { code: 'HTTP_NOT_FOUND' });
  const lines = records.filter((r) => r.callId === 'CA1');
  assert.deepEqual(
    lines.map((r) => r.msg),
    [...Array<string>(FIRST_PER_SOURCE).fill('media stream rejected'), 'websocket upgrade refused'],
  );
  e.clock.advance(REFUSAL_WINDOW_MS);
  const counted = e.records.find((r) => r.msg === 'more refusals at the edge, counted');
  assert.deepEqual(counted?.refused, { MEDIA_BAD_JSON: 50 - FIRST_PER_SOURCE, 'bad http request': 1 });
  assert.equal(counted?.sources, 1);
  log(noisy).warn('media stream rejected', { code: 'MEDIA_BAD_JSON' });
  assert.equal(records.length, FIRST_PER_SOURCE + 2, 'a new window');
});

test('without edge limits every line of a connection is logged', () => {
  const { logger, records } = memoryLogger();
  const limits = new SourceLimits({
    config: null,
    maxCalls: null,
    logger,
    metrics: createServerMetrics(),
    clock: new ManualClock(),
  });
  const gated = logger.gated(limits.gateFor(new FakeSocket('10.0.0.1') as never));
  for (let i = 0; i < 50; i++) gated.warn('bad http request', { code: 'HPE_INVALID_METHOD' });
  assert.equal(records.length, 50);
  limits.stop();
});

test('an address counts as itself, an IPv4 one mapped into IPv6 as IPv4, an IPv6 one by its /64', () => {
  assert.equal(sourceKey('203.0.113.7'), '203.0.113.7');
  assert.equal(sourceKey('::ffff:203.0.113.7'), '203.0.113.7');
  assert.equal(sourceKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  assert.equal(sourceKey('2001:0db8:0001:0002:ffff::1'), '2001:db8:1:2::/64');
  assert.equal(sourceKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(sourceKey('::1'), '0:0:0:0::/64');
  assert.equal(sourceKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
});

test('the total cap follows MAX_CALLS, under the open-files limit', () => {
  assert.equal(defaultMaxConnections(null, null), 4096);
  assert.equal(defaultMaxConnections(100, null), 456);
  assert.equal(defaultMaxConnections(5000, 20_000), 10_256);
  assert.equal(defaultMaxConnections(null, 1024), 768);
  assert.equal(defaultMaxConnections(null, 100), 64);
});

test('the edge limits come from the environment, and a bad value names its variable', () => {
  assert.deepEqual(configFromEnv({}).edgeLimits, {
    maxConnections: null,
    maxConnectionsPerSource: 64,
    maxUnauthenticatedPerSecond: 20,
    trustedSources: [],
  });
  assert.deepEqual(
    configFromEnv({
      MAX_CONNECTIONS: '2000',
      MAX_CONNECTIONS_PER_SOURCE: '8',
      MAX_UNAUTHENTICATED_PER_SECOND: '5',
      TRUSTED_SOURCES: ' 10.0.0.0/8, 192.0.2.1 ,fd00::/8',
    }).edgeLimits,
    {
      maxConnections: 2000,
      maxConnectionsPerSource: 8,
      maxUnauthenticatedPerSecond: 5,
      trustedSources: ['10.0.0.0/8', '192.0.2.1', 'fd00::/8'],
    },
  );
  for (const [name, value] of [
    ['MAX_CONNECTIONS', '10'],
    ['MAX_CONNECTIONS_PER_SOURCE', '0'],
    ['MAX_UNAUTHENTICATED_PER_SECOND', 'many'],
    ['TRUSTED_SOURCES', '10.0.0.0/33'],
    ['TRUSTED_SOURCES', 'proxy.local'],
  ] as const) {
    assert.throws(
      () => configFromEnv({ [name]: value }),
      (err) => isSwitchboardError(err, 'CONFIG_INVALID') && err.message.includes(name),
      `${name}=${value}`,
    );
  }
});
