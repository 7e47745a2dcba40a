import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { placeCall } from '../../src/simulator/caller.ts';
import { ToneTts } from '../fakes/tone-tts.ts';
import { startServer, waitForLog } from '../support/harness.ts';

/** Version n of a one-question flow: key 1 leads to the state `end<n>`. */
function version(n: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: 'shop',
    version: n,
    start: 'menu',
    states: {
      menu: { say: `Version ${n}. Press 1.`, on: { 'dtmf:1': `end${n}` } },
      [`end${n}`]: { say: 'Bye.', hangup: true },
    },
    ...extra,
  });
}

test('an edited flow serves new calls; a call already running stays on the version it started with', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-reload-'));
  await writeFile(join(dir, 'shop.json'), version(1));
  // Tones stand in for speech here: what is tested is which version each call runs, not the voice.
  const server = await startServer({ flowsDir: dir, defaultFlow: 'shop', tts: new ToneTts() });
  try {
    const first = placeCall({ url: server.url, flow: 'shop', inputs: [{ kind: 'dtmf', keys: '1' }] });
    await waitForLog(server.records, (r) => r.msg === 'call started' && r.flowVersion === 1);

    await writeFile(join(dir, 'shop.json'), version(2));
    await waitForLog(server.records, (r) => r.msg === 'flow reloaded for new calls' && r.version === 2);
    const second = await placeCall({ url: server.url, flow: 'shop', inputs: [{ kind: 'dtmf', keys: '1' }] });
    const firstResult = await first;

    const ended = (callId: string) =>
      server.records.find((r) => r.msg === 'call ended' && r.callId === callId);
    assert.equal(ended(firstResult.callSid)?.state, 'end1', 'the first call ran version 1 to its end');
    assert.equal(ended(second.callSid)?.state, 'end2', 'the second call ran version 2');

    // A broken edit leaves version 2 serving.
    await writeFile(join(dir, 'shop.json'), version(3, { start: 'nowhere' }));
    await waitForLog(server.records, (r) => r.msg === 'flow edit refused; the last good version stays live');
    const third = await placeCall({ url: server.url, flow: 'shop', inputs: [{ kind: 'dtmf', keys: '1' }] });
    assert.equal(ended(third.callSid)?.state, 'end2');
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("a flow's intent model is retrained on edit: new calls get the new model, a running call keeps its own", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-reload-'));
  const models = await mkdtemp(join(tmpdir(), 'switchboard-models-'));
  const flow = (n: number, examples: string[]) => version(n, { intents: { order: { examples } } });
  await writeFile(join(dir, 'shop.json'), flow(1, ['i want to order', 'order please']));
  const server = await startServer({
    flowsDir: dir,
    defaultFlow: 'shop',
    tts: new ToneTts(),
    modelsDir: models,
  });
  try {
    const trained = server.records.find((r) => r.msg === 'intent model trained' && r.flow === 'shop');
    assert.ok(trained, 'the model is trained before the server takes calls');
    const v1 = trained.modelVersion;
    assert.equal(server.flows.models.get('shop')?.version, v1);

    const first = placeCall({ url: server.url, flow: 'shop', inputs: [{ kind: 'dtmf', keys: '1' }] });
    await waitForLog(server.records, (r) => r.msg === 'call started' && r.modelVersion === v1);

    await writeFile(
      join(dir, 'shop.json'),
      flow(2, ['i want to order', 'order please', 'can i get a pizza']),
    );
    const reloaded = await waitForLog(
      server.records,
      (r) => r.msg === 'flow reloaded for new calls' && r.version === 2,
    );
    const v2 = reloaded.modelVersion;
    assert.equal(typeof v2, 'string');
    assert.notEqual(v2, v1);
    assert.ok(server.records.some((r) => r.msg === 'intent model trained' && r.modelVersion === v2));
    const second = await placeCall({ url: server.url, flow: 'shop', inputs: [{ kind: 'dtmf', keys: '1' }] });
    const firstResult = await first;
    const started = (callId: string) =>
      server.records.find((r) => r.msg === 'call started' && r.callId === callId);
    assert.equal(started(firstResult.callSid)?.modelVersion, v1);
    assert.equal(started(second.callSid)?.modelVersion, v2);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
    await rm(models, { recursive: true, force: true });
  }
});
