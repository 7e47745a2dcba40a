/**
 * GoogleStt against the local fake Speech server (offline; Google's own latency is not measured): audio lost
 * across gRPC stream restarts (frames written after the last final result that the stream in use at the end of
 * the turn never received; target 0) over at least 20 restarts, and the time from endUtterance() to the final
 * transcript, p50/p99 over 200 turns.
 * Usage: node --import tsx bench/google-stt.ts [--api v1|v2]
 */
import { parseArgs } from 'node:util';
import { pcmToMulaw } from '../src/audio/mulaw.ts';
import type { ListenContext, Transcript } from '../src/speech/stt/engine.ts';
import { GoogleStt, type GoogleSttOptions, type GoogleSttStream } from '../src/speech/stt/google.ts';
import { FRAME_BYTES, FRAME_MS, FRAME_SAMPLES } from '../src/audio/frames.ts';
import { startFakeSpeech, type FakeSpeech } from '../test/fakes/google-speech-server.ts';

const RESTARTS = 20;
const TURNS = 200;
const { values: args } = parseArgs({ options: { api: { type: 'string', default: 'v1' } } });
if (args.api !== 'v1' && args.api !== 'v2') throw new Error('--api must be v1 or v2');
// The fake accepts any project; v2 needs one to name its recognizer.
const API: GoogleSttOptions = { api: args.api, project: 'bench' };
const CONTEXT: ListenContext = { kind: 'closed', phrases: ['yes', 'no'], numbers: false, domain: [] };

function frame(turn: number, i: number): Int16Array {
  return new Int16Array(FRAME_SAMPLES).fill((((turn * 1009 + i) * 397) % 16000) - 8000);
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('the fake did not get the audio in time');
    await new Promise((r) => setTimeout(r, 1));
  }
}

interface Turn {
  stream: GoogleSttStream;
  transcripts: Transcript[];
  final: Promise<Transcript>;
}

function turn(stt: GoogleStt): Turn {
  const transcripts: Transcript[] = [];
  let resolve: (t: Transcript) => void = () => {};
  const final = new Promise<Transcript>((r) => (resolve = r));
  const stream = stt.stream({
    context: CONTEXT,
    onTranscript: (t) => {
      transcripts.push(t);
      if (t.final) resolve(t);
    },
    onError: (err) => {
      throw err;
    },
  });
  return { stream, transcripts, final };
}

/** Sends frames in batches, each once the newest stream at the fake has the last one (so restarts reach it). */
async function feed(fake: FakeSpeech, t: Turn, turnNo: number, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    t.stream.write(frame(turnNo, i));
    if ((i + 1) % 5 !== 0 && i + 1 !== to) continue;
    const last = Buffer.from(pcmToMulaw(frame(turnNo, i)));
    await until(() => {
      const s = fake.streams.at(-1);
      return s !== undefined && s.audio.at(-1)?.equals(last) === true;
    });
  }
}

// 1. Loss across restarts: 200 ms streams, a final result after 5 frames on each turn's first stream.
const restartFake = await startFakeSpeech({ finalText: 'yes' });
const restartStt = new GoogleStt({
  endpoint: { host: restartFake.host, port: restartFake.port },
  streamLimitMs: 200,
  ...API,
});
let restarts = 0;
let lostFrames = 0;
let expectedFrames = 0;
let turns = 0;
while (restarts < RESTARTS) {
  const first = restartFake.streams.length;
  restartFake.setScript({
    finalText: 'yes',
    midFinals: [{ stream: first, afterBytes: 5 * FRAME_BYTES, text: 'oh' }],
  });
  const t = turn(restartStt);
  await feed(restartFake, t, turns, 0, 40);
  t.stream.endUtterance();
  await t.final;
  // Frames after the last final result the engine saw must all be in the stream that ended the turn.
  const lastFinalMs = t.transcripts.filter((x) => !x.final && x.text === 'oh').at(-1)?.endMs ?? 0;
  const firstNeeded = Math.round(lastFinalMs / FRAME_MS);
  const heard = Buffer.concat(restartFake.streams.at(-1)!.audio);
  for (let i = firstNeeded; i < 40; i++) {
    expectedFrames++;
    if (heard.indexOf(Buffer.from(pcmToMulaw(frame(turns, i)))) < 0) lostFrames++;
  }
  restarts += t.stream.grpcStreams - 1;
  turns++;
}
await restartStt.close();
await restartFake.close();

// 2. endUtterance() to final transcript, 1 s of audio per turn, no restarts.
const fake = await startFakeSpeech({ finalText: 'yes please' });
const stt = new GoogleStt({ endpoint: { host: fake.host, port: fake.port }, ...API });
const latencies: number[] = [];
for (let n = 0; n < TURNS; n++) {
  const t = turn(stt);
  await feed(fake, t, n, 0, 50);
  const started = performance.now();
  t.stream.endUtterance();
  await t.final;
  latencies.push(performance.now() - started);
}
await stt.close();
await fake.close();
latencies.sort((a, b) => a - b);
const pct = (p: number): number =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;

console.log(`Speech ${args.api}`);
console.log(
  `frames lost across ${restarts} stream restarts (${turns} turns): ${lostFrames} of ${expectedFrames} needed (target 0)`,
);
console.log(
  `endUtterance() to final transcript, ${TURNS} turns: p50 ${pct(50).toFixed(2)} ms, p99 ${pct(99).toFixed(2)} ms, max ${latencies.at(-1)!.toFixed(2)} ms`,
);
