/** The speech registry: every engine the configuration accepts is registered, with its fallback. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configFromEnv } from '../../../src/config/env.ts';
import { isSwitchboardError } from '../../../src/errors.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { STT_ENGINE_NAMES, TTS_ENGINE_NAMES } from '../../../src/speech/engine-names.ts';
import {
  fallbacksFor,
  STT_ENGINES,
  sttEngine,
  TTS_ENGINES,
  ttsEngine,
  VAD_ENGINES,
} from '../../../src/speech/registry.ts';
import { ToneTts } from '../../fakes/tone-tts.ts';

test('every registered engine is a value the configuration accepts, and the defaults are registered', () => {
  for (const { name } of TTS_ENGINES) assert.equal(configFromEnv({ TTS: name }).tts, name);
  for (const { name } of STT_ENGINES) assert.equal(configFromEnv({ STT: name }).stt, name);
  const defaults = configFromEnv({});
  assert.equal(ttsEngine(defaults.tts).name, defaults.tts);
  assert.equal(sttEngine(defaults.stt).name, defaults.stt);
});

test('the configuration accepts the registered engines and no others: one list of names', () => {
  assert.deepEqual(
    TTS_ENGINES.map((e) => e.name),
    [...TTS_ENGINE_NAMES],
  );
  assert.deepEqual(
    STT_ENGINES.map((e) => e.name),
    [...STT_ENGINE_NAMES],
  );
  for (const name of TTS_ENGINE_NAMES) assert.equal(ttsEngine(name).name, name);
  for (const name of STT_ENGINE_NAMES) assert.equal(sttEngine(name).name, name);
});

test('an unknown engine is a typed CONFIG_INVALID listing the registered ones, as the configuration does', () => {
  assert.throws(
    () => ttsEngine('espeak'),
    (err: unknown) =>
      isSwitchboardError(err, 'CONFIG_INVALID') && /TTS=espeak.*flite or google/.test(err.message),
  );
  const refused = [
    { name: 'TTS', value: 'espeak', registered: TTS_ENGINES },
    { name: 'STT', value: 'whisper', registered: STT_ENGINES },
  ];
  for (const { name, value, registered } of refused) {
    assert.throws(
      () => configFromEnv({ [name]: value }),
      (err: unknown) =>
        isSwitchboardError(err, 'CONFIG_INVALID') &&
        err.message.includes(`${name}=${value}`) &&
        registered.every((e) => err.message.includes(e.name)),
    );
  }
});

test('each fallback is a registered embedded engine of the same kind; embedded engines have none', () => {
  for (const table of [TTS_ENGINES, STT_ENGINES]) {
    for (const entry of table) {
      if (entry.fallback === null) continue;
      assert.equal(entry.embedded, false, `${entry.name} is a cloud engine`);
      const fallback = (table as readonly { name: string; embedded: boolean }[]).find(
        (e) => e.name === entry.fallback,
      );
      assert.ok(fallback?.embedded, `${entry.name} fails over to an embedded engine`);
    }
  }
});

test('failover: Google falls back to flite and pocketsphinx; embedded engines need nothing', () => {
  const cloud = fallbacksFor({ tts: 'google', stt: 'google' });
  assert.deepEqual(
    [cloud.voice?.name, cloud.hearing?.name, cloud.warmUpVoice.name],
    ['flite', 'pocketsphinx', 'flite'],
  );
  const embedded = fallbacksFor({ tts: 'flite', stt: 'pocketsphinx' });
  assert.deepEqual([embedded.voice, embedded.hearing], [null, null]);
  const hearingOnly = fallbacksFor({ tts: 'flite', stt: 'google' });
  assert.deepEqual([hearingOnly.voice, hearingOnly.hearing?.name], [null, 'pocketsphinx']);
  assert.equal(hearingOnly.warmUpVoice.name, 'flite', 'an embedded voice speaks the warm-up');
  assert.equal(fallbacksFor({ tts: 'google', stt: 'off' }).hearing, null);
});

test('STT=off opens to no engine, with what the banner says', async () => {
  const { logger } = memoryLogger();
  const off = sttEngine('off');
  const config = configFromEnv({ STT: 'off' });
  assert.equal(await off.open({ config, logger, role: 'primary', voice: new ToneTts() }), null);
  assert.equal(off.offSummary, 'speech recognition off (STT=off): flows run on the keypad');
});

test('the last VAD always loads: the energy VAD gives a probability per frame', async () => {
  const { logger } = memoryLogger();
  const last = VAD_ENGINES.at(-1)!;
  assert.equal(last.unavailable, null);
  const vad = await last.open({ config: configFromEnv({}), logger, role: 'primary' });
  const heard: number[] = [];
  const stream = vad.open((p, startMs, durationMs) => heard.push(p, startMs, durationMs));
  stream.pushPcm(new Int16Array(160));
  stream.pushPcm(new Int16Array(160));
  assert.deepEqual([heard[1], heard[2], heard[4], heard[5]], [0, 20, 20, 20]);
  stream.close();
  await vad.close();
});
