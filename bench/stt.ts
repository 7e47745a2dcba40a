/**
 * Offline speech recognition: decode time per utterance (all audio written at once, until the final
 * transcript) and word accuracy on flite-synthesized phrases, with a grammar and with a domain language model.
 */
import { mulawToPcm } from '../src/audio/mulaw.ts';
import type { ListenContext } from '../src/speech/stt/engine.ts';
import { PocketsphinxStt } from '../src/speech/stt/pocketsphinx.ts';
import { FliteTts } from '../src/speech/tts/flite.ts';
import { recognize } from './recognize.ts';
import { wordErrors } from './word-errors.ts';

const PHRASES = [
  'yes',
  'no',
  'large pizza',
  'small pizza',
  'talk to a person',
  'cancel my order',
  'i would like to book a table',
  'what are your opening hours',
];
const NUMBERS = ['four five six', 'one two three four', 'nine eight seven'];
const CLOSED: ListenContext = { kind: 'closed', phrases: PHRASES, numbers: true, domain: [] };
const OPEN: ListenContext = {
  kind: 'open',
  phrases: [],
  numbers: true,
  domain: [...PHRASES, 'i want a large pizza please', 'can i speak to someone', 'book a table for two'],
};
const ROUNDS = 5;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const tts = new FliteTts({ voice: 'rms' });
const warmUpAudio = mulawToPcm(
  (
    await tts.synthesize({
      text: 'Thank you for calling. How can I help you today? Please say your account number after the tone.',
    })
  ).mulaw,
);
const engine = await PocketsphinxStt.open({ decoders: 1, warmUpAudio });
for (const voice of ['rms', 'slt', 'kal']) {
  const texts = [...PHRASES, ...NUMBERS];
  const audio = await Promise.all(
    texts.map(async (text) => mulawToPcm((await tts.synthesize({ text, voice })).mulaw)),
  );
  for (const [label, context] of [
    ['grammar', CLOSED],
    ['domain LM', OPEN],
  ] as const) {
    const times: number[] = [];
    let words = 0;
    let errors = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < texts.length; i++) {
        const start = performance.now();
        const t = await recognize(engine, context, audio[i]!);
        times.push(performance.now() - start);
        if (round === 0) {
          words += texts[i]!.split(' ').length;
          errors += wordErrors(texts[i]!, t.text);
        }
      }
    }
    times.sort((a, b) => a - b);
    console.log(
      `stt ${voice.padEnd(3)} ${label.padEnd(9)}: decode p50 ${pct(times, 50).toFixed(1)} ms, p99 ${pct(times, 99).toFixed(1)} ms per utterance (${times.length}); word accuracy ${(100 * (1 - errors / words)).toFixed(1)}% (${words - errors}/${words})`,
    );
  }
}
await engine.close();
await tts.close();
