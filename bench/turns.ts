/**
 * Spoken turns against a real `switchboard serve` (pocketsphinx, Silero VAD, flite): the simulated caller answers
 * a yes-or-no question again and again with a synthesized voice.
 * - Latency per turn, from the server's "turn latency" log: end of turn decided -> first agent audio, and from
 *   the caller's last word (that plus the 700 ms silence window).
 * - Barge-in reaction: the caller talks over each prompt 1 s in; from the first voiced sample the caller sent to
 *   the `clear` it received.
 * - How many turns were understood as meant.
 * Usage: node --import tsx bench/turns.ts [turns=25]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulawToPcm } from '../src/audio/mulaw.ts';
import { placeCall, type CallerInput } from '../src/simulator/caller.ts';
import { FliteTts } from '../src/speech/tts/flite.ts';
import { percentile, startServerProcess } from './server-process.ts';

const turns = Number(process.argv[2] ?? 25);

const FLOW = {
  id: 'bench',
  version: 1,
  start: 'ask',
  states: {
    ask: {
      say: 'Would you like to hear this question once more? Say yes or no.',
      on: { yes: 'ask', no: 'bye' },
    },
    bye: { say: 'Goodbye.', hangup: true },
  },
  policy: { noInputMs: 20_000, maxRetries: 10 },
};

const dir = await mkdtemp(join(tmpdir(), 'switchboard-bench-turns-'));
await writeFile(join(dir, 'bench.json'), JSON.stringify(FLOW));
const server = await startServerProcess({
  FLOWS_DIR: dir,
  MODELS_DIR: join(dir, 'models'),
  DEFAULT_FLOW: 'bench',
  LOG_LEVEL: 'info',
});
const url = server.url;
const logs = (): Record<string, unknown>[] => server.logs();
if (!/STT pocketsphinx/.test(server.output()))
  throw new Error('the server has no speech recognition: install pocketsphinx');

const voice = new FliteTts({ voice: 'rms' });
const yes = (await voice.synthesize({ text: 'yes' })).mulaw;
const no = (await voice.synthesize({ text: 'no' })).mulaw;
await voice.close();
const onsetMs = mulawToPcm(yes).findIndex((x) => Math.abs(x) > 500) / 8;
const inputs = (): CallerInput[] => [
  ...Array.from({ length: turns }, () => ({ kind: 'speech' as const, text: 'yes', audio: yes })),
  { kind: 'speech', text: 'no', audio: no },
];

// 1. Answers after each prompt.
const answered = await placeCall({ url, inputs: inputs(), idleHangupMs: 3000, maxDurationMs: 600_000 });
const latency = logs().filter((r) => r.msg === 'turn latency' && r.callId === answered.callSid);
const heard = logs().filter((r) => r.msg === 'caller heard' && r.callId === answered.callSid);
const right = heard.filter((r, i) => r.intent === (i < turns ? 'yes' : 'no')).length;

// 2. Talking over each prompt 1 s in.
const interrupted = await placeCall({
  url,
  inputs: inputs(),
  bargeInAfterMs: 1000,
  idleHangupMs: 3000,
  maxDurationMs: 600_000,
});
const reactions: number[] = [];
const timeline = interrupted.timeline;
for (const [i, e] of timeline.entries()) {
  if (e.kind !== 'speech' || !e.bargeIn) continue;
  const clear = timeline.slice(i + 1).find((x) => x.kind === 'clear' || x.kind === 'speech');
  if (clear?.kind === 'clear') reactions.push(clear.t - (e.t + onsetMs));
}

await server.stop();
await rm(dir, { recursive: true, force: true });

const num = (r: Record<string, unknown>, key: string): number => Number(r[key]);
const fmt = (xs: number[]): string =>
  `p50 ${percentile(xs, 50).toFixed(1)} ms, p99 ${percentile(xs, 99).toFixed(1)} ms (n=${xs.length})`;
console.log(
  `spoken turns against switchboard serve (pocketsphinx + Silero), caller voice rms, ${turns} + 1 turns`,
);
console.log(`  understood as meant: ${right}/${heard.length} recognized turns of ${turns + 1} spoken`);
console.log(
  `  end of turn decided -> first agent audio: ${fmt(latency.map((r) => num(r, 'endOfTurnToAudioMs')))}`,
);
console.log(`    of which transcript: ${fmt(latency.map((r) => num(r, 'transcriptMs')))}`);
console.log(
  `  caller's last word -> first agent audio (+700 ms window): ${fmt(latency.map((r) => num(r, 'speechEndToAudioMs')))}`,
);
console.log(`  barge-in, first voiced sample sent -> clear received: ${fmt(reactions)}`);
