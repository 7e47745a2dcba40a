import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { placeCall } from '../../src/simulator/caller.ts';
import { ToneTts } from '../fakes/tone-tts.ts';
import { startServer, waitForLog } from './harness.ts';

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
