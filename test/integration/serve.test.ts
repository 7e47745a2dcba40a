import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { placeCall } from '../../src/simulator/caller.ts';
import { EXAMPLE_FLOWS, exampleFlowFile } from '../fixtures/example-flows.ts';
import { serve } from '../support/serve-process.ts';

// The servers of this file share one model cache: the first trains the example flows' models, the rest reuse.
const MODELS_DIR = await mkdtemp(join(tmpdir(), 'switchboard-serve-models-'));
after(() => rm(MODELS_DIR, { recursive: true, force: true }));

test('npm start serves: the banner names the URL, flows, engines and the loopback-only rule', async () => {
  const data = await mkdtemp(join(tmpdir(), 'switchboard-serve-data-'));
  after(() => rm(data, { recursive: true, force: true }));
  const s = await serve({
    MODELS_DIR,
    STORE_URL: `sqlite:${join(data, 'journal.db')}`,
    PROMPT_CACHE_DIR: join(data, 'prompts'),
  });
  try {
    assert.match(s.banner, /listening on http:\/\/127\.0\.0\.1:\d+/);
    assert.match(s.banner, new RegExp(`flows\\s+: ${EXAMPLE_FLOWS.join(', ')};`));
    assert.match(s.banner, /TTS flite \(voice rms\)/);
    assert.match(s.banner, /loopback only/);
    const health = await fetch(`${s.url}/healthz`);
    assert.equal(health.status, 200);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /# TYPE switchboard_calls_active gauge/);
    // Drops of the speech engines are read from them when scraped: none yet.
    assert.match(metrics, /^switchboard_vad_chunks_dropped 0$/m);
    assert.match(metrics, /^switchboard_stt_frames_dropped 0$/m);
    assert.match(metrics, /# TYPE switchboard_turn_latency_ms histogram/);
    // A call, so the journal, its WAL and the prompt folder hold something: all of it the server's user's alone.
    await placeCall({ url: s.url, inputs: [{ kind: 'dtmf', keys: '1' }] });
  } finally {
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
  }
  const modes = async (dir: string): Promise<string[]> =>
    Promise.all(
      (await readdir(dir)).map(
        async (name) => `${name} ${((await stat(join(dir, name))).mode & 0o777).toString(8)}`,
      ),
    );
  const files = [...(await modes(data)), ...(await modes(join(data, 'prompts')))];
  assert.ok(files.some((f) => f.startsWith('journal.db ')) && files.some((f) => f.endsWith('.ulaw 600')));
  for (const file of files) assert.match(file, / (600|700)$/, file);
});

test("serve trains each flow's intent model before taking calls, and reuses it on the next start", async () => {
  const models = await mkdtemp(join(tmpdir(), 'switchboard-serve-models-'));
  try {
    const first = await serve({ MODELS_DIR: models });
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0);
    const trained = first.logs().filter((l) => l.msg === 'intent model trained');
    assert.deepEqual(trained.map((l) => l.flow).sort(), [...EXAMPLE_FLOWS].sort());
    const count = EXAMPLE_FLOWS.length;
    assert.match(first.banner, new RegExp(`intents\\s+: ONNX models for ${count} of ${count} flows`));
    assert.ok(
      trained.every(
        (l) =>
          first.logs().findIndex((r) => r === l) < first.logs().findIndex((r) => r.msg === 'server started'),
      ),
    );

    const second = await serve({ MODELS_DIR: models });
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0);
    const cached = second.logs().filter((l) => l.msg === 'intent model loaded from cache');
    assert.equal(cached.length, count);
    assert.ok(!second.logs().some((l) => l.msg === 'intent model trained'));
    assert.deepEqual(cached.map((l) => l.modelVersion).sort(), trained.map((l) => l.modelVersion).sort());

    const off = await serve({ MODELS_DIR: models, NLU: 'off' });
    off.child.kill('SIGTERM');
    assert.equal(await off.exited, 0);
    assert.match(off.banner, /intents\s+: exact examples only \(NLU=off\)/);
  } finally {
    await rm(models, { recursive: true, force: true });
  }
});

test('serve refuses an invalid flow with the validate report and still serves the valid ones', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-serve-flows-'));
  await copyFile(exampleFlowFile('demo'), join(dir, 'demo.json'));
  await writeFile(
    join(dir, 'loop.json'),
    JSON.stringify({
      id: 'loop',
      version: 1,
      start: 'a',
      states: { a: { say: 'A', next: 'b' }, b: { say: 'B', next: 'a' } },
    }),
  );
  const s = await serve({ FLOWS_DIR: dir, MODELS_DIR });
  try {
    assert.match(s.banner, /flows\s+: demo\s+\(refused: loop\.json\)/);
    assert.match(s.banner, /loop\.json: error \/states\/a\/next talking loop/);
    assert.ok(
      s.logs().some((l) => l.msg === 'flow refused' && l.file === 'loop.json' && l.code === 'FLOW_INVALID'),
    );
    const twiml = await fetch(`${s.url}/twilio/voice?flow=loop`, { method: 'POST' });
    assert.match(
      await twiml.text(),
      /<Say>Sorry, this number is not set up yet/,
      'a call to the refused flow is turned away',
    );
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
    await rm(dir, { recursive: true, force: true });
  }
});

test('SIGTERM drains: no new calls, a live call is handed back once the drain time is up', async () => {
  const s = await serve({ DRAIN_TIMEOUT_MS: '1500', LOG_LEVEL: 'info', MODELS_DIR });
  const call = placeCall({ url: s.url, idleHangupMs: 60_000, maxDurationMs: 30_000 });
  const deadline = Date.now() + 10_000;
  while (!s.logs().some((r) => r.msg === 'first agent audio sent') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
  }
  s.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  const ready = await fetch(`${s.url}/readyz`);
  assert.equal(ready.status, 503, 'not ready while draining');
  const voice = await fetch(`${s.url}/twilio/voice`, { method: 'POST', body: '' });
  assert.equal(voice.status, 503, 'new calls are refused while draining');
  const result = await call;
  assert.equal(result.closeCode, 1001, 'the stream is closed as going away');
  assert.equal(await s.exited, 0);
  const logs = s.logs();
  assert.ok(logs.some((r) => r.msg === 'call handed back' && r.callId === result.callSid));
  assert.ok(logs.some((r) => r.msg === 'drained' && r.handedBack === 1 && r.finished === 0));
});

test('a call that ends during the drain is logged as finished', async () => {
  const s = await serve({ DRAIN_TIMEOUT_MS: '20000', LOG_LEVEL: 'info', MODELS_DIR });
  const call = placeCall({ url: s.url, inputs: [{ kind: 'dtmf', keys: '1' }] });
  const deadline = Date.now() + 10_000;
  while (!s.logs().some((r) => r.msg === 'first agent audio sent') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
  }
  s.child.kill('SIGTERM');
  const result = await call;
  assert.equal(result.endedBy, 'agent');
  assert.equal(await s.exited, 0);
  const logs = s.logs();
  assert.ok(logs.some((r) => r.msg === 'call finished during drain' && r.callId === result.callSid));
  assert.ok(logs.some((r) => r.msg === 'drained' && r.finished === 1 && r.handedBack === 0));
});
