/** The pieces of a server of several processes: merged /metrics, worker links, and live views shared by workers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CallViewEvent } from '../../../src/call/call-view.ts';
import { mergeExpositions, withLabel } from '../../../src/server/cluster/merged-metrics.ts';
import { isClusterMessage } from '../../../src/server/cluster/messages.ts';
import { ClusterPeers } from '../../../src/server/cluster/peers.ts';
import { SharedCallViews } from '../../../src/server/cluster/shared-views.ts';
import { WorkerLink } from '../../../src/server/cluster/worker-link.ts';
import { Registry } from '../../../src/observability/metrics.ts';
import { FakeClusterRelay } from '../../fakes/cluster-relay.ts';

test('withLabel puts the process first among a sample’s labels, escaped', () => {
  assert.equal(withLabel('calls 3', 'worker', '1'), 'calls{worker="1"} 3');
  assert.equal(withLabel('calls{outcome="done"} 3', 'worker', '2'), 'calls{worker="2",outcome="done"} 3');
  assert.equal(withLabel('calls{} 3', 'worker', '2'), 'calls{worker="2"} 3');
  assert.equal(withLabel('x 1', 'worker', 'a"b'), 'x{worker="a\\"b"} 1');
});

test('mergeExpositions lists each family once, with every process’s samples labelled', () => {
  const render = (frames: number, latency: number) => {
    const registry = new Registry();
    registry.counter('frames_total', 'Frames').inc({ track: 'in' }, frames);
    registry.histogram('latency_ms', 'Latency', [10, 100]).observe(latency);
    return registry.render();
  };
  const merged = mergeExpositions([
    { worker: '1', text: render(5, 50) },
    { worker: '2', text: render(7, 5) },
  ]);
  assert.equal(merged.match(/^# TYPE frames_total counter$/gm)?.length, 1);
  assert.equal(merged.match(/^# HELP latency_ms Latency$/gm)?.length, 1);
  assert.match(merged, /^frames_total\{worker="1",track="in"\} 5$/m);
  assert.match(merged, /^frames_total\{worker="2",track="in"\} 7$/m);
  assert.match(merged, /^latency_ms_bucket\{worker="2",le="10"\} 1$/m);
  assert.match(merged, /^latency_ms_bucket\{worker="1",le="10"\} 0$/m);
  // Every sample of a family follows its TYPE line, before the next family.
  const lines = merged.trim().split('\n');
  const typeAt = lines.indexOf('# TYPE latency_ms histogram');
  assert.ok(lines.slice(typeAt + 1).every((l) => l.startsWith('latency_ms')));
});

test('isClusterMessage tells our messages from node:cluster’s own', () => {
  assert.ok(isClusterMessage({ sb: 'drain', signal: 'SIGTERM' }));
  assert.ok(!isClusterMessage({ cmd: 'NODE_CLUSTER', act: 'online' }));
  assert.ok(!isClusterMessage(null));
  assert.ok(!isClusterMessage({ sb: 'other' }));
});

test('a gather collects every worker’s answer, itself included; a failing answerer is left out', async () => {
  const relay = new FakeClusterRelay();
  const [one, two, three] = [relay.join(1), relay.join(2), relay.join(3)];
  one.answer('load', () => 10);
  two.answer('load', async () => 20);
  three.answer('load', () => {
    throw new Error('broken');
  });
  const gathered = await one.gather('load');
  assert.deepEqual(
    gathered.answers.sort((a, b) => a.worker.localeCompare(b.worker)),
    [
      { worker: '1', data: 10 },
      { worker: '2', data: 20 },
    ],
  );
  const failed = relay.sent.find((s) => s.slot === 3 && s.message.sb === 'answer');
  assert.equal((failed?.message as { error?: string }).error, 'broken');
});

test('a gather nobody relays fails after its timeout instead of hanging', async () => {
  const silent = new WorkerLink({ send: () => {}, on: () => {} }, 1, { gatherTimeoutMs: 20 });
  await assert.rejects(silent.gather('metrics'), /no answer from the server's primary process within 20 ms/);
});

test('broadcasts reach the other workers only; drain reaches the handler', async () => {
  const relay = new FakeClusterRelay();
  const [one, two] = [relay.join(1), relay.join(2)];
  const heard: [number, unknown][] = [];
  one.listen('hello', (d) => heard.push([1, d]));
  two.listen('hello', (d) => heard.push([2, d]));
  one.broadcast('hello', 'from 1');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(heard, [[2, 'from 1']]);

  const drained: string[] = [];
  const channel = { listener: (_m: unknown) => {} };
  const link = new WorkerLink({ send: () => {}, on: (_e, l) => (channel.listener = l) }, 1);
  link.onDrain((signal) => drained.push(signal));
  channel.listener({ sb: 'drain', signal: 'SIGTERM' });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(drained, ['SIGTERM']);

  // Asked to drain while still starting: told as soon as it says what to do.
  const early = { listener: (_m: unknown) => {} };
  const starting = new WorkerLink({ send: () => {}, on: (_e, l) => (early.listener = l) }, 2);
  early.listener({ sb: 'drain', signal: 'SIGINT' });
  await new Promise((r) => setImmediate(r));
  starting.onDrain((signal) => drained.push(signal));
  assert.deepEqual(drained, ['SIGTERM', 'SIGINT']);
});

test('shared views: a call opened on one worker is viewed on all; events published anywhere reach every viewer', async () => {
  const relay = new FakeClusterRelay();
  const placing = new SharedCallViews(relay.join(1));
  const holding = new SharedCallViews(relay.join(2));
  const streaming = new SharedCallViews(relay.join(3));
  const callId = 'CA' + 'f'.repeat(32);
  await placing.share(callId);
  assert.ok(holding.has(callId) && streaming.has(callId), 'open in every worker once share resolves');

  const seen: CallViewEvent[] = [];
  streaming.subscribe(callId, (e) => seen.push(e));
  holding.publish(callId, { type: 'state', state: 'menu', slots: {}, at: 1 });
  holding.publish(callId, { type: 'ended', reason: 'caller hung up', at: 2 });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    seen.map((e) => e.type),
    ['state', 'ended'],
  );
  // A late subscriber on the placing worker gets the history too.
  assert.deepEqual(
    placing.history(callId).map((e) => e.type),
    ['state', 'ended'],
  );
  // A call nobody opened is not sent to the other workers.
  const before = relay.sent.length;
  holding.publish('CA' + '0'.repeat(32), { type: 'keys', keys: '1', at: 3 });
  assert.equal(relay.sent.length, before);
  for (const v of [placing, holding, streaming]) v.close();
});

test('peers: a stream started in one worker is told to the others; readiness is any worker ready', async () => {
  const relay = new FakeClusterRelay();
  const [one, two] = [new ClusterPeers(relay.join(1)), new ClusterPeers(relay.join(2))];
  const startedElsewhere: string[] = [];
  two.shareStreamStarts((callId) => startedElsewhere.push(callId));
  one.shareStreamStarts(() => assert.fail('a worker is not told of its own streams'));
  one.streamStarted('CA' + '1'.repeat(32));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(startedElsewhere, ['CA' + '1'.repeat(32)]);

  one.exposeReadiness(() => ({ status: 'busy', reason: 'max_calls', calls: 2, limit: 2 }));
  two.exposeReadiness(() => ({ status: 'ready', calls: 1, limit: 2 }));
  const ready = await one.readiness();
  assert.equal(ready.status, 'ready');
  assert.equal(ready.calls, 3);
  assert.deepEqual(
    ready.workers.map((w) => [w.worker, w.status]),
    [
      [1, 'busy'],
      [2, 'ready'],
    ],
  );
  two.exposeReadiness(() => ({ status: 'draining' }));
  assert.equal((await one.readiness()).status, 'busy', 'busy while none takes calls and not all drain');
});
