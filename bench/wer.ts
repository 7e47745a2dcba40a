/**
 * Word error rate of offline speech recognition (pocketsphinx) on human read speech: Debian's
 * pocketsphinx-testdata. Reported, not asserted.
 *
 * Each recording (16 kHz WAV) goes through the telephone path a caller's voice takes: resampled to 8 kHz,
 * G.711 mu-law encoded and decoded (what Twilio delivers), then written to the engine in 20 ms frames, all at
 * once, followed by endUtterance(); the final transcript is scored. Decode time runs from endUtterance() to the
 * final transcript; since every frame was written just before, it is the whole utterance's decode (a live call
 * decodes alongside the caller's speech and waits only for the tail). Real-time factor = decode / audio.
 *
 * Sets and the ListenContext each is heard with:
 * - librivox, generic: an open question with no domain, so the model's own en-us language model (what an open
 *   question of a flow with no examples gets).
 * - librivox, in-domain: an open question whose domain is the five reference sentences, so a bigram model of
 *   exactly what is said: an upper bound for a flow whose examples cover what callers say.
 * - cards, grammar: a closed question whose phrases are the five reference sentences among all 56 single cards
 *   of cards.gram, as a flow lists an entity's values.
 *
 * Every decoder is warmed up as `serve` does (src/cli/hearing.ts): on a flite sentence (voice rms), not on the
 * test speech. The engine's cepstral mean then carries over from one utterance to the next, as in a call.
 *
 * Usage: node --import tsx bench/wer.ts [--verbose]   (npm run bench:wer)
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../src/audio/frames.ts';
import { mulawToPcm, pcmToMulaw } from '../src/audio/mulaw.ts';
import { resample } from '../src/audio/resample.ts';
import { readWav } from '../src/audio/wav.ts';
import { isSwitchboardError } from '../src/errors.ts';
import type { ListenContext, Transcript } from '../src/speech/stt/engine.ts';
import { PocketsphinxStt } from '../src/speech/stt/pocketsphinx.ts';
import { warmUpAudio } from '../src/speech/stt/warm-up.ts';
import { FliteTts } from '../src/speech/tts/flite.ts';
import { alignErrors } from './word-errors.ts';

const DATA = '/usr/share/pocketsphinx/test/data';
const VERBOSE = process.argv.includes('--verbose');
// From cards.gram: <card> = <rank> [ of ] <suits>.
const RANKS = 'ace two three four five six seven eight nine ten jack queen king lady'.split(' ');
const SUITS = ['clubs', 'hearts', 'diamonds', 'spades'];
// Spellings the dictionary has both ways, scored as one word (the references spell them out).
const SAME_WORD: Record<string, string> = { mr: 'mister', mrs: 'missus' };

interface Utterance {
  id: string;
  reference: string[];
  /** 8 kHz PCM after the mu-law round trip. */
  pcm: Int16Array;
}

interface TestSet {
  name: string;
  context: ListenContext;
  utterances: Utterance[];
}

/** Reference or hypothesis as comparable words: lower case, no sentence marks, fillers, ids or punctuation. */
function normalize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/\([^)]*\)\s*$/, ' ') // trailing utterance id, "(sense_and_sensibility_01_austen_64kb-0870)"
    .replace(/<[^>]*>|\[[^\]]*\]|\+\+[^+]*\+\+/g, ' ') // <s>, </s>, <sil>, [noise], ++breath++
    .replace(/\(\d+\)/g, ' ') // alternate pronunciation markers, "read(2)"
    .replace(/[^\p{L}\p{N}'\s]/gu, ' ')
    .split(/\s+/)
    .filter((w) => w !== '' && w !== "'")
    .map((w) => SAME_WORD[w] ?? w);
}

/** The telephone path: to 8 kHz, through mu-law and back. */
function telephone(samples: Int16Array, sampleRate: number): Int16Array {
  return mulawToPcm(pcmToMulaw(resample(samples, sampleRate, SAMPLE_RATE)));
}

function loadWav(path: string): Int16Array {
  const wav = readWav(readFileSync(path));
  return telephone(wav.samples, wav.sampleRate);
}

/** "<s> words </s> (id)" lines (a decoder's output adds a score: "(id score)"), keyed by id. */
function transcriptions(path: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!existsSync(path)) return out;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const id = /\(\s*([^()\s]+)[^()]*\)\s*$/.exec(line)?.[1];
    if (id) out.set(id, normalize(line));
  }
  return out;
}

function loadSet(dir: string, fileids: string, transcription: string): Utterance[] {
  const refs = transcriptions(join(dir, transcription));
  return readFileSync(join(dir, fileids), 'utf8')
    .split('\n')
    .map((id) => id.trim())
    .filter((id) => id !== '')
    .map((id) => {
      const reference = refs.get(id);
      if (!reference) throw new Error(`${transcription} has no line for ${id}`);
      return { id, reference, pcm: loadWav(join(dir, `${id}.wav`)) };
    });
}

function recognize(
  engine: PocketsphinxStt,
  context: ListenContext,
  pcm: Int16Array,
): Promise<{ transcript: Transcript; ms: number }> {
  return new Promise((resolve, reject) => {
    let ended = 0;
    const stream = engine.stream({
      context,
      onTranscript: (transcript) => {
        const ms = performance.now() - ended;
        stream.close();
        resolve({ transcript, ms });
      },
      onError: reject,
    });
    for (let i = 0; i < pcm.length; i += FRAME_SAMPLES) stream.write(pcm.subarray(i, i + FRAME_SAMPLES));
    ended = performance.now();
    stream.endUtterance();
  });
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const NEEDED = [
  'librivox/fileids',
  'librivox/transcription',
  'cards/cards.fileids',
  'cards/cards.transcription',
];
if (!NEEDED.every((file) => existsSync(join(DATA, file)))) {
  console.log(
    `wer: skipped, no pocketsphinx test data at ${DATA} (sudo apt-get install pocketsphinx-testdata)`,
  );
  process.exit(0);
}

const tts = new FliteTts({ voice: 'rms' });
const warmUp = await warmUpAudio(tts);
await tts.close();
let engine: PocketsphinxStt;
try {
  engine = await PocketsphinxStt.open({ decoders: 1, warmUpAudio: warmUp });
} catch (err) {
  if (!isSwitchboardError(err, 'STT_UNAVAILABLE')) throw err;
  console.log(`wer: skipped, pocketsphinx is unavailable (${err.message})`);
  process.exit(0);
}

const librivox = loadSet(join(DATA, 'librivox'), 'fileids', 'transcription');
const cards = loadSet(join(DATA, 'cards'), 'cards.fileids', 'cards.transcription');
const singleCards = RANKS.flatMap((rank) => SUITS.map((suit) => `${rank} of ${suit}`));
const sets: TestSet[] = [
  {
    name: 'librivox generic LM (open, no domain)',
    context: { kind: 'open', phrases: [], numbers: false, domain: [] },
    utterances: librivox,
  },
  {
    name: 'librivox in-domain LM (open, domain = references; upper bound)',
    context: {
      kind: 'open',
      phrases: [],
      numbers: false,
      domain: librivox.map((u) => u.reference.join(' ')),
    },
    utterances: librivox,
  },
  {
    name: 'cards grammar (closed, references + 56 single cards)',
    context: {
      kind: 'closed',
      phrases: [...cards.map((u) => u.reference.join(' ')), ...singleCards],
      numbers: false,
      domain: [],
    },
    utterances: cards,
  },
];

console.log('wer: pocketsphinx en-us, 16 kHz WAV -> 8 kHz -> G.711 mu-law -> 8 kHz PCM, 20 ms frames');
console.log('     warm-up: flite voice rms, the sentence `serve` warms up with (not the test speech)');
// pocketsphinx's own regression output on the 16 kHz originals (its default search), scored the same way.
const published = transcriptions(join(DATA, 'librivox', 'test-lm.match'));
if (published.size > 0) {
  let errors = 0;
  let words = 0;
  for (const u of librivox) {
    const e = alignErrors(u.reference, published.get(u.id) ?? []);
    errors += e.sub + e.del + e.ins;
    words += u.reference.length;
  }
  console.log(
    `     for comparison, pocketsphinx's expected output on the 16 kHz originals (librivox/test-lm.match, not decoded here): WER ${((100 * errors) / words).toFixed(1)}%`,
  );
}
for (const set of sets) {
  // Builds the search (and, for the generic model, the decoder with the whole dictionary) before timing.
  await recognize(engine, set.context, warmUp);
  const times: number[] = [];
  let words = 0;
  let sub = 0;
  let del = 0;
  let ins = 0;
  let audioMs = 0;
  for (const u of set.utterances) {
    const { transcript, ms } = await recognize(engine, set.context, u.pcm);
    const hyp = normalize(transcript.text);
    const e = alignErrors(u.reference, hyp);
    times.push(ms);
    words += u.reference.length;
    sub += e.sub;
    del += e.del;
    ins += e.ins;
    audioMs += (u.pcm.length * 1000) / SAMPLE_RATE;
    if (VERBOSE) {
      const errors = e.sub + e.del + e.ins;
      console.log(
        `  ${u.id}: ${errors}/${u.reference.length} errors, ${ms.toFixed(0)} ms\n    ref: ${u.reference.join(' ')}\n    hyp: ${hyp.join(' ')}`,
      );
    }
  }
  const decodeMs = times.reduce((a, b) => a + b, 0);
  times.sort((a, b) => a - b);
  console.log(
    `${set.name}: WER ${((100 * (sub + del + ins)) / words).toFixed(1)}% (S ${sub} D ${del} I ${ins} / ${words} words, ${set.utterances.length} utterances); decode p50 ${pct(times, 50).toFixed(0)} ms, p99 ${pct(times, 99).toFixed(0)} ms per utterance; RTF ${(decodeMs / audioMs).toFixed(2)} (${(audioMs / 1000).toFixed(1)} s audio)`,
  );
}
await engine.close();
