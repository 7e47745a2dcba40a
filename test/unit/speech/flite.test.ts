/** The real flite engine in real child processes. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { activeSpeechMs } from '../../../src/audio/level.ts';
import { isSwitchboardError } from '../../../src/errors.ts';
import { ManualClock } from '../../fakes/manual-clock.ts';
import {
  FLITE_MAX_PENDING,
  FLITE_MAX_TEXT_CHARS,
  FLITE_MAX_TOKEN_CHARS,
  FLITE_VOICES,
  FliteTts,
  fliteChildrenForTest,
  fliteText,
} from '../../../src/speech/tts/flite.ts';

const FLITE_MODULE = new URL('../../../src/speech/tts/flite.ts', import.meta.url).href;

/** Over a second of work for flite's 'rms' voice: long enough to act while it runs. */
const LONG_TEXT = 'This sentence is here so that the synthesis takes a while to finish. '.repeat(20);

// Requests here may wait behind long texts on a loaded machine: the bound on waiting has its own test.
const tts = new FliteTts({ voice: 'rms', workers: 2, maxWaitMs: 60_000 });
after(() => tts.close());

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(condition(), what);
}

function isTtsFailed(pattern: RegExp) {
  return (err: unknown): boolean => isSwitchboardError(err, 'TTS_FAILED') && pattern.test(err.message);
}

test('"Thanks for calling" becomes audible 8 kHz mu-law of a plausible length', async () => {
  const audio = await tts.synthesize({ text: 'Thanks for calling' });
  assert.ok(audio.mulaw instanceof Uint8Array);
  assert.equal(audio.durationMs, audio.mulaw.length / 8, '8000 one-byte samples per second');
  assert.ok(audio.durationMs >= 500 && audio.durationMs <= 3000, `duration ${audio.durationMs} ms`);
  assert.ok(activeSpeechMs(audio.mulaw) > 500, `active speech ${activeSpeechMs(audio.mulaw)} ms`);
});

test("'kal' (8 kHz) and 'rms' (16 kHz, resampled) both speak, and differently", async () => {
  const kal = await tts.synthesize({ text: 'Press one for sales', voice: 'kal' });
  const rms = await tts.synthesize({ text: 'Press one for sales', voice: 'rms' });
  for (const audio of [kal, rms]) {
    assert.ok(audio.durationMs >= 500 && audio.durationMs <= 3000, `duration ${audio.durationMs} ms`);
    assert.ok(activeSpeechMs(audio.mulaw) > 500);
  }
  assert.notDeepEqual(kal.mulaw, rms.mulaw);
});

test('every listed voice works', async () => {
  assert.deepEqual([...FLITE_VOICES].sort(), ['awb', 'kal', 'kal16', 'rms', 'slt']);
  for (const voice of FLITE_VOICES) {
    const audio = await tts.synthesize({ text: 'Goodbye', voice });
    assert.ok(activeSpeechMs(audio.mulaw) > 200, `${voice} is audible`);
  }
});

test('an unknown voice rejects with TTS_FAILED naming the valid voices', async () => {
  await assert.rejects(
    tts.synthesize({ text: 'Hello', voice: 'hal9000' }),
    isTtsFailed(/hal9000.*kal, kal16, awb, rms, slt/),
  );
  assert.throws(() => new FliteTts({ voice: 'hal9000' }), isTtsFailed(/valid voices/));
});

test('empty, blank and over-long text reject with TTS_FAILED, without quoting the text', async () => {
  await assert.rejects(tts.synthesize({ text: '' }), isTtsFailed(/empty/));
  await assert.rejects(tts.synthesize({ text: ' \n\t ' }), isTtsFailed(/empty/));
  const long = 'card 4111 '.repeat(FLITE_MAX_TEXT_CHARS / 10 + 1);
  await assert.rejects(tts.synthesize({ text: long }), (err: unknown) => {
    assert.ok(isSwitchboardError(err, 'TTS_FAILED'));
    assert.match(err.message, /5010 characters, over the limit of 5000/);
    assert.ok(!err.message.includes('4111'));
    return true;
  });
  const atLimit = 'Thank you for waiting. '.repeat(FLITE_MAX_TEXT_CHARS / 20).slice(0, FLITE_MAX_TEXT_CHARS);
  const limit = await tts.synthesize({ text: atLimit, voice: 'kal' });
  assert.ok(limit.durationMs > 60_000, 'exactly the limit is accepted and spoken');
});

test('fliteText turns control characters into spaces and breaks up very long tokens', () => {
  assert.equal(fliteText('Hello, world. 12:30!'), 'Hello, world. 12:30!');
  assert.equal(fliteText('one\u0000two\nthree\u007f'), 'one two three ');
  const token = 'x'.repeat(2 * FLITE_MAX_TOKEN_CHARS + 50);
  assert.deepEqual(
    fliteText(`say ${token} now`)
      .split(' ')
      .map((w) => w.length),
    [3, FLITE_MAX_TOKEN_CHARS, FLITE_MAX_TOKEN_CHARS, 50, 3],
  );
  const emoji = '\u{1F600}'.repeat(FLITE_MAX_TOKEN_CHARS + 1);
  const pieces = fliteText(emoji).split(' ');
  assert.deepEqual(
    pieces.map((p) => [...p].length),
    [FLITE_MAX_TOKEN_CHARS, 1],
    'splits between characters, not inside a surrogate pair',
  );
});

test('text is one argument: leading dashes and control characters are spoken, not parsed', async () => {
  const audio = await tts.synthesize({ text: '-o /o/other.wav -voice awb', voice: 'kal' });
  assert.ok(activeSpeechMs(audio.mulaw) > 1000, 'the whole text was spoken');
  const withNul = await tts.synthesize({ text: 'one\u0000two three four', voice: 'kal' });
  const plain = await tts.synthesize({ text: 'one two three four', voice: 'kal' });
  assert.deepEqual(withNul.mulaw, plain.mulaw, 'a NUL does not cut the text short');
});

test('an aborted request rejects with AbortError while a parallel one still succeeds', async () => {
  const controller = new AbortController();
  const started = Date.now();
  const aborted = tts.synthesize({ text: LONG_TEXT, signal: controller.signal });
  const parallel = tts.synthesize({ text: 'Your call is important to us', voice: 'kal' });
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(aborted, { name: 'AbortError' });
  assert.ok(Date.now() - started < 500, 'rejected at once, not when flite finished');
  const audio = await parallel;
  assert.ok(activeSpeechMs(audio.mulaw) > 500);
  await assert.rejects(tts.synthesize({ text: 'Hi', signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('a request aborted while queued never reaches flite; the queue moves on', async () => {
  // The long text keeps the child busy for seconds: longer than a request may wait by default.
  const single = new FliteTts({ voice: 'kal', workers: 1, maxWaitMs: 60_000 });
  try {
    const busy = single.synthesize({ text: LONG_TEXT, voice: 'rms' });
    const controller = new AbortController();
    const queued = single.synthesize({ text: 'Never mind', signal: controller.signal });
    const next = single.synthesize({ text: 'Next please' });
    controller.abort();
    await assert.rejects(queued, { name: 'AbortError' });
    assert.ok((await busy).durationMs > 5000);
    assert.ok((await next).durationMs > 300);
  } finally {
    await single.close();
  }
});

test('the queue is bounded', async () => {
  const single = new FliteTts({ voice: 'kal', workers: 1 });
  const controller = new AbortController();
  setMaxListeners(FLITE_MAX_PENDING + 1, controller.signal);
  try {
    const accepted = Array.from({ length: FLITE_MAX_PENDING + 1 }, () =>
      single.synthesize({ text: 'Hi', signal: controller.signal }),
    );
    for (const p of accepted) p.catch(() => {});
    await assert.rejects(single.synthesize({ text: 'Hi' }), isTtsFailed(/queue full/));
    // The child is still starting, so all wait: the last of the batch and this one were past the bound.
    assert.deepEqual(single.shed, { queueFull: 2, waitedTooLong: 0 }, 'counted for /metrics');
    controller.abort();
    const settled = await Promise.allSettled(accepted);
    assert.equal(settled.filter((s) => s.status === 'rejected').length, FLITE_MAX_PENDING + 1);
    assert.ok((await single.synthesize({ text: 'Room again' })).durationMs > 0);
  } finally {
    await single.close();
  }
});

/** Whether a process with this pid still exists (a reaped child does not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ESRCH');
    return false;
  }
}

test('a request that waits past maxWaitMs for a busy child is refused and counted; later ones are served', async () => {
  const clock = new ManualClock();
  const single = new FliteTts({ voice: 'kal', workers: 1, maxWaitMs: 200, clock });
  try {
    await single.warmUp();
    const busy = single.synthesize({ text: LONG_TEXT });
    const waiting = single.synthesize({ text: 'Too late' });
    clock.advance(200);
    await assert.rejects(waiting, isTtsFailed(/waited 200 ms for a flite child/));
    assert.deepEqual(single.shed, { queueFull: 0, waitedTooLong: 1 });
    assert.ok((await busy).durationMs > 5000, 'the work under way is not cut');
    assert.ok((await single.synthesize({ text: 'In time' })).durationMs > 0);
    assert.equal(single.shed.waitedTooLong, 1);
  } finally {
    await single.close();
  }
});

test('a child that dies fails its request, and the next request gets a new child', async () => {
  const single = new FliteTts({ voice: 'rms', workers: 1 });
  try {
    await single.warmUp();
    const [first] = fliteChildrenForTest(single);
    assert.ok(first?.pid);
    const doomed = single.synthesize({ text: LONG_TEXT });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(readdirSync(first.dir).length, 1, 'the request is using its temp folder');
    first.child.kill('SIGTERM');
    await assert.rejects(doomed, isTtsFailed(/child died \(killed by SIGTERM\)/));
    assert.equal(fliteChildrenForTest(single).length, 0);
    await waitFor(() => !existsSync(first.dir), 'the killed child folder is removed');

    const audio = await single.synthesize({ text: 'Still here' });
    assert.ok(activeSpeechMs(audio.mulaw) > 300);
    const [second] = fliteChildrenForTest(single);
    assert.ok(second?.pid && second.pid !== first.pid);
    assert.equal(single.crashes, 1);
  } finally {
    await single.close();
  }
});

test('SIGKILL mid-synthesis fails only that request: the one queued behind it and the next one succeed', async () => {
  const single = new FliteTts({ voice: 'rms', workers: 1 });
  try {
    await single.warmUp();
    const [first] = fliteChildrenForTest(single);
    assert.ok(first?.pid);
    const doomed = single.synthesize({ text: LONG_TEXT });
    const queued = single.synthesize({ text: 'Press one for sales', voice: 'kal' });
    await new Promise((r) => setTimeout(r, 100));
    first.child.kill('SIGKILL');
    await assert.rejects(doomed, (err: unknown) => {
      assert.ok(isSwitchboardError(err, 'TTS_FAILED'));
      assert.match(err.message, /flite child died \(killed by SIGKILL\)/);
      assert.deepEqual(
        { signal: err.data.signal, exitCode: err.data.exitCode },
        { signal: 'SIGKILL', exitCode: null },
      );
      assert.ok(!err.message.includes('sentence'), 'the text is not in the message');
      return true;
    });
    const audio = await queued;
    assert.ok(activeSpeechMs(audio.mulaw) > 500, 'the queued request went to a new child');
    const next = await single.synthesize({ text: 'And the next one' });
    assert.ok(activeSpeechMs(next.mulaw) > 300);
    const children = fliteChildrenForTest(single);
    assert.equal(children.length, 1);
    assert.notEqual(children[0]?.pid, first.pid);
    assert.ok(!alive(first.pid), 'the killed child is gone');
    await waitFor(() => !existsSync(first.dir), 'the killed child folder is removed');
    assert.equal(single.crashes, 1);
  } finally {
    await single.close();
  }
});

test('children that keep crashing at start-up fail the queue instead of restarting forever', async () => {
  // The restart window is timed by a manual clock: the test moves past it instead of waiting it out.
  const clock = new ManualClock();
  const engine = new FliteTts({ voice: 'kal', workers: 1, maxCrashes: 3, crashWindowMs: 2500, clock });
  // Every child is killed as soon as it appears, long before it has compiled flite.
  const killed = new Set<number>();
  let killedReady = 0;
  const killer = setInterval(() => {
    for (const { child, pid, ready } of fliteChildrenForTest(engine)) {
      if (pid && !killed.has(pid)) {
        if (ready) killedReady++;
        killed.add(pid);
        child.kill('SIGKILL');
      }
    }
  }, 2);
  try {
    const first = engine.synthesize({ text: 'One' });
    const second = engine.synthesize({ text: 'Two' });
    for (const p of [first, second]) await assert.rejects(p, isTtsFailed(/keep crashing/));
    assert.equal(engine.crashes, 3);
    assert.equal(killed.size, 3, 'no child was started after the third crash');
    assert.equal(killedReady, 0, 'each was killed while starting');
    // Within the window, a new request fails at once instead of starting yet another child.
    await assert.rejects(engine.synthesize({ text: 'Three' }), isTtsFailed(/keep crashing/));
    assert.equal(killed.size, 3);
    clearInterval(killer);
    // Once the crashes are older than the window, children are started on demand again.
    clock.advance(2600);
    const audio = await engine.synthesize({ text: 'Four' });
    assert.ok(audio.durationMs > 200);
    assert.equal(engine.crashes, 3);
  } finally {
    clearInterval(killer);
    await engine.close();
  }
});

test('close() rejects pending work, kills the children and refuses new requests', async () => {
  const engine = new FliteTts({ workers: 2 });
  await engine.warmUp();
  const children = fliteChildrenForTest(engine);
  assert.equal(children.length, 2);
  const pids = children.map((c) => c.pid ?? assert.fail('no pid'));
  for (const pid of pids) assert.ok(alive(pid));
  const pending = assert.rejects(engine.synthesize({ text: LONG_TEXT }), isTtsFailed(/closed/));
  await engine.close();
  await pending;
  assert.equal(fliteChildrenForTest(engine).length, 0);
  for (const pid of pids) assert.ok(!alive(pid), `child ${pid} is gone once close() resolves`);
  for (const { dir } of children) assert.ok(!existsSync(dir), 'child folders are removed');
  await assert.rejects(engine.synthesize({ text: 'Hello' }), isTtsFailed(/closed/));
  assert.equal(engine.crashes, 0, 'children killed by close() are no crash');
});

test(
  'the V8 flag is on the child command line only, and nothing reconfigures V8 in this process',
  {
    skip: !existsSync('/proc/self/cmdline'),
  },
  async () => {
    await tts.synthesize({ text: 'Checking flags' });
    const [child] = fliteChildrenForTest(tts);
    assert.ok(child?.pid);
    const argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(argv.includes('--no-turbo-fast-api-calls'), `child argv: ${argv.join(' ')}`);
    assert.ok(!process.execArgv.some((a) => a.includes('fast-api')), 'not in this process execArgv');
    const own = readFileSync('/proc/self/cmdline', 'utf8');
    assert.ok(!own.includes('fast-api'), 'not on this process command line');
  },
);
test('a process using flite prints nothing of its own and exits once closed', () => {
  const script = `
    import { FliteTts } from ${JSON.stringify(FLITE_MODULE)};
    const tts = new FliteTts();
    const audio = await tts.synthesize({ text: 'Hello there' });
    await tts.close();
    process.stdout.write(String(audio.mulaw.length));
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, '', 'no ExperimentalWarning or flite chatter');
  assert.ok(Number(run.stdout) > 4000, `stdout: ${run.stdout}`);
});

test('a process using flite never calls v8.setFlagsFromString, starts no thread and keeps its execArgv', () => {
  // Spies on node:v8 and node:worker_threads, in place before flite.ts loads (syncBuiltinESMExports reaches named
  // imports too), in the process that would be the server. No Worker means no other JS realm the v8 spy could
  // miss (a worker thread calling setFlagsFromString would still change this process's V8).
  const script = `
    import { createRequire, syncBuiltinESMExports } from 'node:module';
    const require = createRequire(import.meta.url);
    const v8 = require('node:v8');
    const threads = require('node:worker_threads');
    let flagCalls = 0;
    let workers = 0;
    const setFlags = v8.setFlagsFromString;
    v8.setFlagsFromString = (flags) => { flagCalls++; setFlags(flags); };
    const RealWorker = threads.Worker;
    threads.Worker = class extends RealWorker { constructor(...args) { workers++; super(...args); } };
    syncBuiltinESMExports();
    const before = JSON.stringify(process.execArgv);
    const { FliteTts } = await import(${JSON.stringify(FLITE_MODULE)});
    const tts = new FliteTts({ workers: 2 });
    await tts.warmUp();
    await Promise.all(['kal', 'rms', 'slt'].map((voice) => tts.synthesize({ text: 'Hello there', voice })));
    await tts.close();
    const same = before === JSON.stringify(process.execArgv);
    process.stdout.write(JSON.stringify({ flagCalls, workers, same }));
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { flagCalls: 0, workers: 0, same: true });
});

test(
  'a process whose parent is SIGKILLed leaves no flite child behind',
  { skip: !existsSync('/proc/self/stat') },
  async () => {
    const script = `
    import { FliteTts, fliteChildrenForTest } from ${JSON.stringify(FLITE_MODULE)};
    const tts = new FliteTts({ workers: 2 });
    await tts.warmUp();
    const children = fliteChildrenForTest(tts).map((c) => ({ pid: c.pid, dir: c.dir }));
    process.stdout.write(JSON.stringify(children) + '\\n');
    setInterval(() => {}, 1000);
  `;
    const { spawn } = await import('node:child_process');
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    parent.stdout.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      parent.stdout.on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('\n')) resolve();
      });
      parent.on('exit', () => reject(new Error(`parent exited early: ${out}`)));
    });
    const children = JSON.parse(out) as { pid: number; dir: string }[];
    assert.equal(children.length, 2);
    parent.kill('SIGKILL');
    // They are not our children, so they stay zombies until init reaps them: check they left, by their folder
    // and their state, rather than by their pid alone.
    await waitFor(
      () => children.every(({ pid, dir }) => !existsSync(dir) && !running(pid)),
      'the orphaned children exit and remove their folders',
    );
  },
);

/** Whether `pid` exists and is not a zombie. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}
