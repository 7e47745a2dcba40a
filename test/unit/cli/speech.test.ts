/** What `serve` opens for speech, read from the registry: hearing when recognition is off or missing, failover. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openFallbackSpeech } from '../../../src/cli/fallback-speech.ts';
import { openHearing } from '../../../src/cli/hearing.ts';
import { configFromEnv } from '../../../src/config/env.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { ToneTts } from '../../fakes/tone-tts.ts';

test('STT=off: no hearing, and the banner says flows run on the keypad', async () => {
  const { logger } = memoryLogger();
  const opened = await openHearing(configFromEnv({ STT: 'off' }), new ToneTts(), logger);
  assert.equal(opened.hearing, null);
  assert.equal(opened.summary, 'speech recognition off (STT=off): flows run on the keypad');
  await opened.close();
});

test('pocketsphinx missing: no hearing, the banner says what to install, the log says why', async () => {
  const { logger, records } = memoryLogger();
  const config = configFromEnv({ POCKETSPHINX_LIBRARY: '/nonexistent/libpocketsphinx.so.3' });
  const opened = await openHearing(config, new ToneTts(), logger);
  assert.equal(opened.hearing, null);
  assert.match(
    opened.summary,
    /^speech recognition unavailable \(.*apt-get install -y libpocketsphinx3.*\); flows run on the keypad$/,
  );
  assert.ok(
    records.some(
      (r) =>
        r.msg === 'speech recognition unavailable; flows run on the keypad' && r.code === 'STT_UNAVAILABLE',
    ),
  );
});

test('embedded engines chosen: no failover is loaded', async () => {
  const { logger, records } = memoryLogger();
  const failover = openFallbackSpeech(configFromEnv({}), logger);
  assert.equal(failover.summary, 'none needed');
  await failover.ready;
  assert.equal(failover.fallback.stt(), null);
  assert.equal(failover.fallback.prompts(), null);
  assert.ok(!records.some((r) => r.msg === 'embedded engines ready for failover'));
  await failover.close();
});

test('Google chosen: the banner names the embedded engines it fails over to', async () => {
  const { logger } = memoryLogger();
  const failover = openFallbackSpeech(
    configFromEnv({
      TTS: 'google',
      STT: 'google',
      POCKETSPHINX_LIBRARY: '/nonexistent/libpocketsphinx.so.3',
    }),
    logger,
  );
  assert.equal(
    failover.summary,
    'flite voice, pocketsphinx hearing (else the keypad), loading in the background',
  );
  await failover.ready;
  assert.ok(failover.fallback.prompts(), 'flite speaks for a failing Google voice');
  assert.equal(failover.fallback.stt(), null, 'pocketsphinx is missing: failing calls go to the keypad');
  await failover.close();
});
