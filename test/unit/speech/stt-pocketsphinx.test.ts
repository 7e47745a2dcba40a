import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mulawToPcm } from '../../../src/audio/mulaw.ts';
import { isSwitchboardError } from '../../../src/errors.ts';
import { checkModelFiles } from '../../../src/speech/stt/decoder.ts';
import type { ListenContext, Transcript } from '../../../src/speech/stt/engine.ts';
import {
  DEFAULT_DICTIONARY,
  DEFAULT_MODEL_DIR,
  loadPocketsphinx,
} from '../../../src/speech/stt/pocketsphinx-binding.ts';
import { PocketsphinxStt, pocketsphinxProcessesForTest } from '../../../src/speech/stt/pocketsphinx.ts';
import { FliteTts } from '../../../src/speech/tts/flite.ts';

function unavailable(): string | undefined {
  try {
    loadPocketsphinx();
    checkModelFiles({ modelDir: DEFAULT_MODEL_DIR, dictionary: DEFAULT_DICTIONARY });
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
const missing = unavailable();
const skip = missing ? `pocketsphinx is not installed (${missing})` : false;
const suffix = missing ? ' [skipped: pocketsphinx not installed]' : '';

const PHRASES = ['yes', 'no', 'large pizza', 'small pizza', 'talk to a person', 'cancel my order'];
const CLOSED: ListenContext = { kind: 'closed', phrases: PHRASES, numbers: true, domain: [] };
const OPEN: ListenContext = {
  kind: 'open',
  phrases: [],
  numbers: false,
  domain: [...PHRASES, 'i would like a large pizza', 'what are your opening hours', 'can i speak to someone'],
};

let tts: FliteTts;
let engine: PocketsphinxStt;

async function speak(text: string, voice = 'rms'): Promise<Int16Array> {
  return mulawToPcm((await tts.synthesize({ text, voice })).mulaw);
}

/** Writes `pcm` in 20 ms frames, ends the utterance and resolves with the final transcript. */
function recognize(context: ListenContext, pcm: Int16Array, target = engine): Promise<Transcript> {
  return new Promise((resolve, reject) => {
    const stream = target.stream({
      context,
      onTranscript: (t) => {
        if (!t.final) return;
        stream.close();
        resolve(t);
      },
      onError: reject,
    });
    for (let i = 0; i < pcm.length; i += 160) stream.write(pcm.subarray(i, i + 160));
    stream.endUtterance();
  });
}

before(async () => {
  if (missing) return;
  tts = new FliteTts({ voice: 'rms' });
  const warmUp = await speak(
    'Thank you for calling. How can I help you today? Please say your account number after the tone.',
  );
  engine = await PocketsphinxStt.open({ decoders: 2, warmUpAudio: warmUp });
});

after(async () => {
  await engine?.close();
  await tts?.close();
});

test(`a grammar hears the expected phrases and digits${suffix}`, { skip }, async () => {
  for (const text of [...PHRASES, 'four five six']) {
    const t = await recognize(CLOSED, await speak(text));
    assert.equal(t.text, text);
    assert.equal(t.final, true);
    assert.equal(t.confidence, null);
    assert.ok(t.startMs >= 0 && t.endMs > t.startMs, `times ${t.startMs}-${t.endMs}`);
  }
});

test(`an open question is decoded with a model of the flow's domain${suffix}`, { skip }, async () => {
  for (const text of [
    'what are your opening hours',
    'i would like a large pizza',
    'can i speak to someone',
  ]) {
    const t = await recognize(OPEN, await speak(text));
    assert.equal(t.text, text);
    assert.ok(t.confidence !== null && t.confidence >= 0 && t.confidence <= 1);
  }
});

test(`times are from the start of the stream, across utterances${suffix}`, { skip }, async () => {
  const yes = await speak('yes');
  const finals: Transcript[] = [];
  await new Promise<void>((resolve, reject) => {
    const stream = engine.stream({
      context: CLOSED,
      onTranscript: (t) => {
        finals.push(t);
        if (finals.length === 2) resolve();
      },
      onError: reject,
    });
    for (let n = 0; n < 2; n++) {
      for (let i = 0; i < yes.length; i += 160) stream.write(yes.subarray(i, i + 160));
      stream.endUtterance();
    }
  });
  const ms = (yes.length / 8000) * 1000;
  assert.deepEqual(
    finals.map((t) => t.text),
    ['yes', 'yes'],
  );
  assert.ok(finals[0]!.endMs <= ms + 20);
  assert.ok(finals[1]!.startMs >= ms, `second starts at ${finals[1]!.startMs}, after ${ms}`);
});

test(
  `searches built before the dictionary grew still decode, as do searches opened mid-utterance${suffix}`,
  { skip },
  async () => {
    // One decoder, so every search shares its dictionary: each new context below adds words to it.
    const single = await PocketsphinxStt.open({
      decoders: 1,
      warmUpAudio: await speak('thank you for calling'),
    });
    try {
      const banking: ListenContext = {
        kind: 'open',
        phrases: [],
        numbers: true,
        domain: ['what is my account balance', 'transfer money to savings', 'report a stolen card'],
      };
      const colours: ListenContext = {
        kind: 'closed',
        phrases: ['purple', 'orange', 'turquoise'],
        numbers: false,
        domain: [],
      };
      assert.equal(
        (await recognize(OPEN, await speak('i would like a large pizza'), single)).text,
        'i would like a large pizza',
      );
      assert.equal(
        (await recognize(banking, await speak('report a stolen card'), single)).text,
        'report a stolen card',
      );
      // Opened while another stream's utterance holds the decoder: its search is built once the decoder is free.
      const held = single.stream({ context: OPEN, onTranscript: () => {}, onError: () => {} });
      held.write(await speak('yes'));
      const colour = recognize(colours, await speak('turquoise'), single);
      held.endUtterance();
      assert.equal((await colour).text, 'turquoise');
      held.close();
      assert.equal(
        (await recognize(OPEN, await speak('what are your opening hours'), single)).text,
        'what are your opening hours',
      );
      assert.equal(
        (await recognize(banking, await speak('what is my account balance'), single)).text,
        'what is my account balance',
      );
    } finally {
      await single.close();
    }
  },
);

test(
  `a stalled decoder keeps a stream's waiting audio at its bound, drops the oldest and counts it; other decoders' calls go on${suffix}`,
  { skip },
  async () => {
    const own = await PocketsphinxStt.open({
      decoders: 2,
      maxBufferedMs: 2000,
      warmUpAudio: await speak(
        'Thank you for calling. How can I help you today? Please say your account number after the tone.',
      ),
    });
    const [stalled] = pocketsphinxProcessesForTest(own);
    assert.ok(stalled);
    try {
      const finals: Transcript[] = [];
      const finalHeard = new Promise<void>((resolve, reject) => {
        const behind = own.stream({
          context: CLOSED,
          onTranscript: (t) => {
            if (!t.final) return;
            finals.push(t);
            resolve();
          },
          onError: reject,
        });
        // The first stream goes to the first decoder: stop it, as a decoder far behind would be.
        stalled.kill('SIGSTOP');
        const frame = new Int16Array(160);
        // 250 frames (5 s), the stream alone on its decoder: the first frame goes to it, 100 (2 s) wait, and
        // the 149 oldest of the rest go.
        for (let i = 0; i < 250; i++) {
          behind.write(frame);
          assert.ok(behind.bufferedMs <= 2000, `waiting ${behind.bufferedMs} ms`);
        }
        assert.equal(behind.bufferedMs, 2000);
        assert.equal(behind.droppedFrames, 149);
        assert.equal(own.droppedFrames, 149);
        behind.endUtterance();
      });
      // Another call, on the other decoder, is heard as usual meanwhile.
      assert.equal((await recognize(CLOSED, await speak('yes'), own)).text, 'yes');
      assert.equal(finals.length, 0, 'the stalled decoder has answered nothing');
      stalled.kill('SIGCONT');
      await finalHeard;
      assert.equal(finals[0]!.text, '');
      assert.ok(finals[0]!.endMs <= 5000, `ends at ${finals[0]!.endMs} ms of the call's audio`);
    } finally {
      stalled.kill('SIGCONT');
      await own.close();
    }
  },
);

test(
  `callers sharing a decoder send short turns whole, so one still speaking does not hold it from another${suffix}`,
  { skip },
  async () => {
    const single = await PocketsphinxStt.open({
      decoders: 1,
      warmUpAudio: await speak(
        'Thank you for calling. How can I help you today? Please say your account number after the tone.',
      ),
    });
    try {
      const order: string[] = [];
      const heard = (name: string, stream: () => { close(): void }) => (t: Transcript) => {
        if (!t.final) return;
        order.push(`${name}:${t.text}`);
        stream().close();
      };
      let done: () => void = () => {};
      const both = new Promise<void>((resolve) => (done = resolve));
      const check = (): void => {
        if (order.length === 2) done();
      };
      const speaking = single.stream({
        context: CLOSED,
        onTranscript: (t) => (heard('speaking', () => speaking)(t), check()),
        onError: (err) => assert.fail(err),
      });
      const other = single.stream({
        context: CLOSED,
        onTranscript: (t) => (heard('other', () => other)(t), check()),
        onError: (err) => assert.fail(err),
      });
      const [yes, no] = [await speak('yes'), await speak('no')];
      for (let i = 0; i < yes.length; i += 160) speaking.write(yes.subarray(i, i + 160));
      // The first caller has not finished its turn; the second says all of its own meanwhile.
      for (let i = 0; i < no.length; i += 160) other.write(no.subarray(i, i + 160));
      other.endUtterance();
      speaking.endUtterance();
      await both;
      // Streamed frame by frame, the first caller's audio would have taken the decoder until its end.
      assert.deepEqual(order, ['other:no', 'speaking:yes']);
    } finally {
      await single.close();
    }
  },
);

test(`silence and full-scale noise give no words and no crash${suffix}`, { skip }, async () => {
  const silence = new Int16Array(8000);
  const t1 = await recognize(CLOSED, silence);
  assert.equal(t1.text, '');
  const noise = new Int16Array(16000);
  for (let i = 0; i < noise.length; i++) noise[i] = Math.random() < 0.5 ? 32767 : -32768;
  const t2 = await recognize({ kind: 'closed', phrases: PHRASES, numbers: false, domain: [] }, noise);
  assert.ok(!PHRASES.slice(2).includes(t2.text), `noise heard as ${JSON.stringify(t2.text)}`);
  const t3 = await recognize(CLOSED, new Int16Array(0));
  assert.equal(t3.text, '');
});

test(`a decoder process that crashes fails only its streams and is replaced${suffix}`, { skip }, async () => {
  const [victim, survivor] = pocketsphinxProcessesForTest(engine);
  assert.ok(victim && survivor);
  const errors: unknown[] = [];
  const got = new Promise<void>((resolve) => {
    // Streams go to the least busy decoder: one to each.
    for (let n = 0; n < 2; n++) {
      engine.stream({
        context: CLOSED,
        onTranscript: () => {},
        onError: (err) => {
          errors.push(err);
          resolve();
        },
      });
    }
  });
  // As pocketsphinx itself has crashed: a segmentation fault in the native code.
  victim.kill('SIGSEGV');
  await got;
  assert.equal(errors.length, 1, 'only the stream on the crashed decoder failed');
  assert.ok(isSwitchboardError(errors[0], 'STT_FAILED'));
  assert.match((errors[0] as Error).message, /decoder process crashed/);
  // This process lives on, the other decoder is untouched, and a replacement takes the crashed one's place.
  const now = pocketsphinxProcessesForTest(engine);
  assert.equal(now.length, 2);
  assert.ok(now.includes(survivor));
  assert.ok(!now.includes(victim));
  for (let n = 0; n < 4; n++) assert.equal((await recognize(CLOSED, await speak('yes'))).text, 'yes');
});

test('a missing library is a typed STT_UNAVAILABLE error at open, saying what to install', async () => {
  await assert.rejects(PocketsphinxStt.open({ library: '/nonexistent/libpocketsphinx.so.3' }), (err) => {
    assert.ok(isSwitchboardError(err, 'STT_UNAVAILABLE'));
    assert.match(err.message, /apt-get install -y libpocketsphinx3 pocketsphinx-en-us/);
    return true;
  });
});

test(`missing model files are a typed STT_UNAVAILABLE error at open${suffix}`, { skip }, async () => {
  await assert.rejects(PocketsphinxStt.open({ modelDir: '/nonexistent/en-us' }), (err) => {
    assert.ok(isSwitchboardError(err, 'STT_UNAVAILABLE'));
    assert.match(err.message, /pocketsphinx-en-us/);
    return true;
  });
});

test(`a closed engine fails new streams${suffix}`, { skip }, async () => {
  const closed = await PocketsphinxStt.open({ decoders: 1 });
  await closed.close();
  const err = await new Promise((resolve) =>
    closed.stream({ context: CLOSED, onTranscript: () => {}, onError: resolve }),
  );
  assert.ok(isSwitchboardError(err, 'STT_FAILED'));
});
