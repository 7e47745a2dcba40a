/**
 * Offline recognition under concurrent turns: N callers speak a short phrase at real time, all at once, against
 * pocketsphinx with 2 decoder processes; the time from each end of turn to its final transcript, and how many were
 * heard right. Run with the decoder fed frame by frame (batchMs 0) and with short turns sent whole (the default).
 * Usage: node --import tsx bench/stt-concurrency.ts [callers=8,16,32]
 */
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE } from '../src/audio/frames.ts';
import { mulawToPcm } from '../src/audio/mulaw.ts';
import type { ListenContext } from '../src/speech/stt/engine.ts';
import { PocketsphinxStt } from '../src/speech/stt/pocketsphinx.ts';
import { FliteTts } from '../src/speech/tts/flite.ts';

const PHRASES = ['yes', 'no', 'large pizza', 'small pizza', 'talk to a person', 'cancel my order'];
const CONTEXT: ListenContext = { kind: 'closed', phrases: PHRASES, numbers: false, domain: [] };
/** The silence window that ends a turn: the caller's audio goes on for this long after the words. */
const TRAIL_MS = 700;

const counts = (process.argv[2] ?? '8,16,32').split(',').map(Number);
const tts = new FliteTts({ voice: 'rms' });
const speech = new Map<string, Int16Array>();
for (const p of PHRASES) {
  const pcm = mulawToPcm((await tts.synthesize({ text: p })).mulaw);
  const padded = new Int16Array(pcm.length + (TRAIL_MS * SAMPLE_RATE) / 1000);
  padded.set(pcm);
  speech.set(p, padded);
}
const warmUp = mulawToPcm(
  (await tts.synthesize({ text: 'Thank you for calling. How can I help you today? Please say your number.' }))
    .mulaw,
);
await tts.close();

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Every caller speaks at once, frame by frame at real time; resolves with each turn's latency and result. */
async function run(engine: PocketsphinxStt, callers: number): Promise<{ ms: number[]; right: number }> {
  const ms: number[] = [];
  let right = 0;
  await Promise.all(
    Array.from({ length: callers }, (_, c) => {
      const phrase = PHRASES[c % PHRASES.length]!;
      const pcm = speech.get(phrase)!;
      return new Promise<void>((resolve, reject) => {
        let ended = 0;
        const stream = engine.stream({
          context: CONTEXT,
          onTranscript: (t) => {
            if (!t.final) return;
            ms.push(performance.now() - ended);
            if (t.text === phrase) right++;
            stream.close();
            resolve();
          },
          onError: reject,
        });
        let at = 0;
        const timer = setInterval(() => {
          stream.write(pcm.subarray(at, at + FRAME_SAMPLES));
          at += FRAME_SAMPLES;
          if (at >= pcm.length) {
            clearInterval(timer);
            ended = performance.now();
            stream.endUtterance();
          }
        }, FRAME_MS);
      });
    }),
  );
  return { ms, right };
}

for (const batchMs of [0, 3000]) {
  const engine = await PocketsphinxStt.open({ decoders: 2, warmUpAudio: warmUp, batchMs });
  for (const callers of counts) {
    const { ms, right } = await run(engine, callers);
    console.log(
      `batchMs ${String(batchMs).padStart(4)}  callers ${String(callers).padStart(3)}: end of turn -> final ` +
        `p50 ${percentile(ms, 50).toFixed(0)} ms, p95 ${percentile(ms, 95).toFixed(0)} ms, ` +
        `max ${Math.max(...ms).toFixed(0)} ms; heard right ${right}/${callers}`,
    );
  }
  await engine.close();
}
