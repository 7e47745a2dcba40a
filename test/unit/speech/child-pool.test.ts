/**
 * The speech engines' child-process pool and its request/response layer, with a tiny child
 * (test/fixtures/pool-child.ts) so crashes, start failures and the restart intensity are cheap to provoke; the
 * restart window is driven by a manual clock.
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { isSwitchboardError, SwitchboardError } from '../../../src/errors.ts';
import { ChildPool, type ChildEnd } from '../../../src/speech/child-pool.ts';
import { ChildRequests } from '../../../src/speech/child-requests.ts';
import { ManualClock } from '../../fakes/manual-clock.ts';

const CHILD = fileURLToPath(new URL('../../fixtures/pool-child.ts', import.meta.url));
type Out = { type: 'ready' } | { type: 'done'; id: number; value: string };

function forkChild(mode: string) {
  return fork(CHILD, [mode], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
}

const died = (end: ChildEnd): SwitchboardError =>
  new SwitchboardError('TTS_FAILED', `child died (${end.signal ?? end.exitCode})`, {
    starting: end.starting,
  });

function requests(
  modes: () => string,
  options: { clock?: ManualClock; maxCrashes?: number; size?: number; maxWaitMs?: number } = {},
) {
  return new ChildRequests<string, Out, string>({
    size: options.size ?? 1,
    maxCrashes: options.maxCrashes ?? 3,
    crashWindowMs: 1000,
    ...(options.clock ? { clock: options.clock } : {}),
    workDirPrefix: 'switchboard-pool-test-',
    fork: () => forkChild(modes()),
    maxPending: 4,
    queueFull: (pending) => new SwitchboardError('TTS_FAILED', 'queue full', { pending }),
    ...(options.maxWaitMs === undefined
      ? {}
      : {
          maxWaitMs: options.maxWaitMs,
          waitedTooLong: (ms: number) => new SwitchboardError('TTS_FAILED', `waited ${ms} ms`),
        }),
    closedError: () => new SwitchboardError('TTS_FAILED', 'closed'),
    startError: (err) => new SwitchboardError('TTS_FAILED', 'cannot start', {}, { cause: err }),
    exhaustedError: (crashes) => new SwitchboardError('TTS_FAILED', 'keep crashing', { crashes }),
    endError: died,
    message: (id, value) => ({ type: value === 'hang' ? 'hang' : 'echo', id, value }),
    answer: (message) => (message.type === 'done' ? { id: message.id, result: message.value } : null),
  });
}

const failed = (pattern: RegExp) => (err: unknown) =>
  isSwitchboardError(err, 'TTS_FAILED') && pattern.test(err.message);

test('requests are answered by a child started on demand, which has its own folder until it ends', async () => {
  const pool = requests(() => 'ready');
  try {
    assert.equal(pool.pool.children.length, 0, 'nothing starts before it is needed');
    assert.equal(await pool.request('one'), 'one');
    assert.equal(await pool.request('two'), 'two');
    const [child] = pool.pool.children;
    assert.ok(child?.dir && existsSync(child.dir));
    await pool.close();
    assert.ok(!existsSync(child.dir), 'its folder is removed once it is gone');
    await assert.rejects(pool.request('three'), failed(/closed/));
    assert.equal(pool.pool.crashes, 0, 'ended by close(): no crash');
  } finally {
    await pool.close();
  }
});

test('a crash fails the request in flight; the queued one goes to a replacement', async () => {
  const pool = requests(() => 'ready');
  try {
    await pool.warmUp();
    const [first] = pool.pool.children;
    const doomed = pool.request('hang');
    const queued = pool.request('after');
    first!.process.kill('SIGKILL');
    await assert.rejects(doomed, failed(/child died \(SIGKILL\)/));
    assert.equal(await queued, 'after');
    assert.equal(pool.pool.crashes, 1);
    assert.notEqual(pool.pool.children[0], first);
  } finally {
    await pool.close();
  }
});

test('an aborted request rejects at once and the queue moves on; the queue is bounded', async () => {
  const pool = requests(() => 'ready');
  try {
    await pool.warmUp();
    const busy = pool.request('hang');
    const controller = new AbortController();
    const aborted = pool.request('never', controller.signal);
    controller.abort();
    await assert.rejects(aborted, { name: 'AbortError' });
    const queued = [1, 2, 3, 4].map((n) => pool.request(String(n)));
    await assert.rejects(pool.request('five'), failed(/queue full/));
    pool.pool.children[0]!.process.kill('SIGKILL');
    await assert.rejects(busy, failed(/child died/));
    assert.deepEqual(await Promise.all(queued), ['1', '2', '3', '4']);
  } finally {
    await pool.close();
  }
});

test('behind a stalled child the queue stays at its bound; requests past it or waiting too long are refused and counted', async () => {
  const clock = new ManualClock();
  const pool = requests(() => 'ready', { clock, maxWaitMs: 500 });
  try {
    await pool.warmUp();
    const stalled = pool.request('hang');
    const queued = [1, 2, 3, 4].map((n) => pool.request(String(n)));
    for (const q of queued) q.catch(() => {});
    await assert.rejects(pool.request('five'), failed(/queue full/));
    assert.equal(pool.pending, 4, 'the queue holds its bound, no more');
    assert.deepEqual(pool.shed, { queueFull: 1, waitedTooLong: 0 });
    clock.advance(499);
    assert.equal(pool.pending, 4);
    clock.advance(1);
    for (const q of queued) await assert.rejects(q, failed(/waited 500 ms/));
    assert.equal(pool.pending, 0);
    assert.deepEqual(pool.shed, { queueFull: 1, waitedTooLong: 4 });
    // The stalled work does not hold up what comes once the child is free again.
    pool.pool.children[0]!.process.kill('SIGKILL');
    await assert.rejects(stalled, failed(/child died/));
    assert.equal(await pool.request('after'), 'after');
    clock.advance(1000);
    assert.equal(pool.shed.waitedTooLong, 4, 'a request answered in time is never refused later');
  } finally {
    await pool.close();
  }
});

test('children that keep dying at start fail the queue until the window passes (manual clock)', async () => {
  const clock = new ManualClock();
  let mode = 'die';
  const pool = requests(() => mode, { clock, maxCrashes: 2 });
  try {
    await assert.rejects(pool.request('one'), failed(/keep crashing/));
    assert.equal(pool.pool.crashes, 2, 'no third child was started');
    await assert.rejects(pool.request('two'), failed(/keep crashing/));
    assert.equal(pool.pool.crashes, 2);
    clock.advance(999);
    await assert.rejects(pool.request('three'), failed(/keep crashing/));
    mode = 'ready';
    clock.advance(1);
    assert.equal(await pool.request('four'), 'four', 'a window later, children start again');
  } finally {
    await pool.close();
  }
});

test('a child reporting a start failure rejects its ready promise with that error, and is no crash', async () => {
  const pool = new ChildPool<Out>({
    size: 2,
    fork: () => forkChild('failed'),
    maxCrashes: 1,
    crashWindowMs: 1000,
    onMessage: () => {},
    onCrash: () => assert.fail('no crash'),
    endError: died,
    exhaustedError: () => new SwitchboardError('STT_FAILED', 'keep crashing'),
    closedError: () => new SwitchboardError('STT_FAILED', 'closed'),
  });
  try {
    await assert.rejects(pool.fill(), (err: unknown) => {
      assert.ok(isSwitchboardError(err, 'STT_UNAVAILABLE'));
      assert.match(err.message, /nothing installed/);
      assert.deepEqual(err.data, { what: 'test' });
      return true;
    });
    await Promise.all(pool.children.map((child) => child.gone));
    assert.equal(pool.crashes, 0);
  } finally {
    await pool.close();
  }
});
