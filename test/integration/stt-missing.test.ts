/**
 * Without the pocketsphinx library the real server still starts, says in its banner that flows run on the
 * keypad, and a call driven by keys goes to its end. POCKETSPHINX_LIBRARY points at a library that is not there.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { placeCall } from '../../src/simulator/caller.ts';
import { serve } from '../support/serve-process.ts';

test('pocketsphinx missing: the server starts, says calls take keys only, and a keypad call ends where it should', async (ctx) => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-stt-missing-'));
  const missing = join(dir, 'libpocketsphinx.so.3');
  const server = await serve({
    STT: '',
    // Exact examples only: no intent models to train, so the server is up in seconds.
    NLU: 'off',
    MODELS_DIR: join(dir, 'models'),
    LOG_LEVEL: 'info',
    POCKETSPHINX_LIBRARY: missing,
  });
  const { child, url, logs, exited } = server;
  ctx.after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  const speech = /speech\s+: (.*)/.exec(server.banner)?.[1] ?? '';
  assert.match(speech, /TTS flite/);
  assert.match(speech, /speech recognition unavailable \(.*cannot load the pocketsphinx library/);
  assert.match(speech, /install it with: apt-get install -y libpocketsphinx3/);
  assert.ok(speech.includes(missing), 'the banner names the library it tried');
  assert.match(speech, /flows run on the keypad$/);
  assert.ok(
    logs().some(
      (l) =>
        l.msg === 'speech recognition unavailable; flows run on the keypad' && l.code === 'STT_UNAVAILABLE',
    ),
  );
  assert.equal((await fetch(`${url}/healthz`)).status, 200);

  // The demo's callback path by keypad: a menu key, a number collected up to #, and the read-back confirmed.
  const result = await placeCall({
    url,
    inputs: [
      { kind: 'dtmf', keys: '2' },
      { kind: 'dtmf', keys: '5551234#' },
      { kind: 'dtmf', keys: '1' },
    ],
    idleHangupMs: 3000,
    maxDurationMs: 50_000,
  });
  assert.equal(result.endedBy, 'agent', 'the agent hung up after its goodbye');
  assert.equal(result.closeCode, 1000);
  assert.deepEqual(
    result.marks.map((m) => m.split('.')[0]),
    ['menu', 'callback', 'confirm', 'thanks'],
  );
  const ended = logs().find((l) => l.msg === 'call ended' && l.callId === result.callSid);
  assert.equal(ended?.state, 'thanks');
  assert.ok(!logs().some((l) => l.level === 'error'), 'nothing was logged as an error');

  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
