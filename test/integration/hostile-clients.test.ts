/**
 * Hostile clients against a live server: while good calls run, every kind of misbehaving client of
 * test/support/hostile-clients.ts opens dozens of connections, each kind from an address of its own. Each
 * connection is ended the way its kind should be (its close code or HTTP status, or 429 from the edge limits once
 * its address has used its allowance), the refusals are logged without the flood flooding the log, the good calls
 * lose no frame, a flood past the total connection cap is dropped as it is accepted, and the server stays up.
 * Timing is not asserted: `npm run bench:hostile` measures stalls and memory.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EdgeLimitsConfig } from '../../src/config/env.ts';
import { runLoad } from '../../src/load/scheduler.ts';
import { PER_WINDOW } from '../../src/server/refusal-log.ts';
import {
  HOSTILE_CALL_PREFIX,
  HOSTILE_KINDS,
  runKind,
  type HostileTarget,
  type KindResult,
} from '../support/hostile-clients.ts';
import { startServer, type TestServer } from '../support/harness.ts';

const LIMITS: EdgeLimitsConfig = {
  maxConnections: 400,
  maxConnectionsPerSource: 16,
  // Low, so each kind's address runs out within its few dozen connections however slowly the machine runs.
  maxUnauthenticatedPerSecond: 2,
  trustedSources: [],
};

/** Connections of each kind, and how many at once: past the per-source cap for the kinds that hold sockets. */
const PLAN: Record<string, { connections: number; concurrency: number }> = {
  'malformed JSON': { connections: 40, concurrency: 8 },
  'binary frame': { connections: 40, concurrency: 8 },
  '10 MB frame': { connections: 8, concurrency: 2 },
  'events out of order': { connections: 40, concurrency: 8 },
  'media for another stream': { connections: 10, concurrency: 2 },
  'flood of marks': { connections: 3, concurrency: 1 },
  'flood of keys': { connections: 3, concurrency: 1 },
  'never sends start': { connections: 30, concurrency: 30 },
  'slow headers (HTTP)': { connections: 30, concurrency: 30 },
  'slow headers (upgrade)': { connections: 30, concurrency: 30 },
  'stalls mid-frame': { connections: 20, concurrency: 20 },
  'stolen ticket, reconnecting': { connections: 30, concurrency: 1 },
  'expired ticket, reconnecting': { connections: 30, concurrency: 1 },
  'unauthenticated requests': { connections: 60, concurrency: 4 },
};
/** The kinds that hold their sockets open: only the per-source cap's worth get in, the rest are told 429. */
const HOLDING = ['never sends start', 'slow headers (HTTP)', 'slow headers (upgrade)', 'stalls mid-frame'];

let server: TestServer;
let closed = false;
before(async () => {
  server = await startServer({ edgeLimits: LIMITS, httpTimeouts: { headersMs: 1500, requestMs: 3000 } });
});
after(async () => {
  if (!closed) await server.close();
});

test('hostile clients are each ended as they should be, while good calls lose nothing', async () => {
  const target: HostileTarget = {
    url: server.url,
    ticket: async (callSid) => {
      const params = await server.streamParams(callSid, 'demo');
      return { path: `/twilio/media/${params.token}`, params };
    },
  };
  const good = runLoad(
    {
      url: server.url,
      flow: null,
      steps: [4],
      rampPerSecond: 20,
      holdMs: 14_000,
      speech: { kind: 'silence' },
      everyMs: 6000,
      answerWithinMs: 5000,
      allowHosts: [],
      authToken: null,
      pid: null,
      maxSeconds: 60,
      json: false,
    },
    [],
  );
  await sleep(500);
  const results = await Promise.all(
    HOSTILE_KINDS.map((kind, i) =>
      runKind(kind, target, { source: `127.0.0.${10 + i}`, ...PLAN[kind.name]! }),
    ),
  );
  const load = await good;

  const byKind = new Map(results.map((r) => [r.kind, r]));
  const show = (r: KindResult): string => `${r.kind}: ${JSON.stringify(r.outcomes)}`;
  for (const kind of HOSTILE_KINDS) {
    const r = byKind.get(kind.name)!;
    assert.equal(r.opened, PLAN[kind.name]!.connections, show(r));
    assert.equal(r.unexpected, 0, show(r));
    assert.ok((r.outcomes[kind.expected[0]!] ?? 0) > 0, `${show(r)}: never ${kind.expected[0]}`);
  }
  for (const name of HOLDING) {
    const r = byKind.get(name)!;
    const own = HOSTILE_KINDS.find((k) => k.name === name)!.expected[0]!;
    assert.equal(r.outcomes[own], LIMITS.maxConnectionsPerSource, show(r));
    assert.equal(r.outcomes['http 429'], PLAN[name]!.concurrency - LIMITS.maxConnectionsPerSource, show(r));
  }
  for (const name of ['malformed JSON', 'stolen ticket, reconnecting', 'unauthenticated requests']) {
    assert.ok(
      (byKind.get(name)!.outcomes['http 429'] ?? 0) > 0,
      `${show(byKind.get(name)!)}: never rate-limited`,
    );
  }

  // The good calls: all connected, none ended by the server, and every frame either way counted on both sides.
  const [step] = load.steps;
  assert.equal(load.stopped, null);
  assert.equal(step?.connected, 4);
  assert.equal(step.endedByServer, 0);
  const goodEnds = server.records.filter(
    (r) =>
      r.msg === 'call ended' && typeof r.callId === 'string' && !r.callId.startsWith(HOSTILE_CALL_PREFIX),
  );
  assert.equal(goodEnds.length, 4);
  assert.ok(goodEnds.every((r) => r.reason === 'caller hung up'));
  const sum = (field: string): number => goodEnds.reduce((n, r) => n + Number(r[field]), 0);
  assert.ok(load.frames.sent > 4 * 500, `${load.frames.sent} frames sent`);
  assert.equal(sum('framesIn'), load.frames.sent, 'the server got every frame the good callers sent');
  assert.equal(sum('framesOut'), load.frames.received, 'the good callers got every frame the server sent');

  assert.ok(server.records.some((r) => r.code === 'DTMF_FLOOD'));

  // Past the total cap, connections are dropped as they are accepted; those already in are untouched.
  const flood = await holdConnections(30, LIMITS.maxConnectionsPerSource);
  assert.ok(flood.dropped > 0 && flood.dropped <= 30 * 16 - 400 + 20, `${flood.dropped} dropped`);
  assert.ok(flood.answered >= 400 - 20, `${flood.answered} let in`);
  // The server's side of each closes a moment after the client's.
  while (server.app.metrics.connectionsOpen.get() > 10) await sleep(20);
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'the server is still up');
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  for (const code of ['HTTP_TOO_MANY_CONNECTIONS', 'HTTP_RATE_LIMITED', 'HTTP_SERVER_FULL']) {
    assert.match(metrics, new RegExp(`switchboard_edge_refusals_total\\{code="${code}"\\} [1-9]`), code);
  }

  // Every refusal was counted, a few of each source logged one by one, the rest reported in a count.
  closed = true;
  await server.close();
  const oneByOne = server.records.filter((r) =>
    ['HTTP_TOO_MANY_CONNECTIONS', 'HTTP_RATE_LIMITED', 'HTTP_SERVER_FULL'].includes(String(r.code)),
  );
  const counted = server.records.filter((r) => r.msg === 'more refusals at the edge, counted');

  // What each kind did is in the log with its code: the first few lines of a source one by one, the rest counted.
  const countedCodes = counted.flatMap((r) => Object.keys(r.refused as Record<string, number>));
  const connectionLines = server.records.filter(
    (r) =>
      [
        'media stream rejected',
        'bad http request',
        'http request too slow; closed',
        'websocket upgrade refused',
        'http request refused',
      ].includes(r.msg) ||
      (r.msg === 'call ended' && r.reason === 'bad input'),
  );
  const seen = new Set([...connectionLines.map((r) => String(r.code)), ...countedCodes]);
  for (const code of [
    'MEDIA_BAD_JSON',
    'MEDIA_BAD_MESSAGE',
    'MEDIA_TOO_LARGE',
    'MEDIA_OUT_OF_ORDER',
    'MEDIA_NO_START',
    'RESUME_REFUSED',
    'ERR_HTTP_REQUEST_TIMEOUT',
  ]) {
    assert.ok(seen.has(code), `nothing logged or counted for ${code}: ${[...seen].join(', ')}`);
  }
  const opened = results.reduce((n, r) => n + r.opened, 0);
  assert.ok(
    connectionLines.length <= 4 * PER_WINDOW && connectionLines.length < opened / 4,
    `${connectionLines.length} lines about ${opened} hostile connections`,
  );
  const refusals = [...metrics.matchAll(/switchboard_edge_refusals_total\{code="\w+"\} (\d+)/g)].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );
  assert.ok(oneByOne.length <= 4 * PER_WINDOW, `${oneByOne.length} refusals logged one by one`);
  assert.ok(
    refusals > oneByOne.length && counted.length > 0,
    `${refusals} refused, ${oneByOne.length} logged`,
  );
  assert.ok(
    oneByOne.every((r) => r.pii?.source === '[redacted]'),
    'the source address only under pii',
  );
  assert.doesNotMatch(
    JSON.stringify(server.records),
    /127\.0\.(0\.(1\d|2\d)|1\.\d+)\b/,
    'no hostile address in the log',
  );
});

/**
 * Opens `perSource` idle connections from each of `sources` addresses at once and waits for each to end: an
 * answer (the 408 of a request that never came) means it was let in; nothing at all, that it was dropped.
 */
async function holdConnections(
  sources: number,
  perSource: number,
): Promise<{ answered: number; dropped: number }> {
  const { hostname, port } = new URL(server.url);
  const ends = await Promise.all(
    Array.from({ length: sources * perSource }, (_, i) => {
      const socket = connect({
        host: hostname,
        port: Number(port),
        localAddress: `127.0.1.${1 + (i % sources)}`,
      });
      let answered = false;
      socket.on('data', () => (answered = true));
      socket.on('error', () => {});
      return new Promise<boolean>((resolve) => socket.on('close', () => resolve(answered)));
    }),
  );
  return { answered: ends.filter(Boolean).length, dropped: ends.filter((a) => !a).length };
}
