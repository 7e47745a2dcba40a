/**
 * Transition latency inside a live call: from a DTMF message reaching the call's session to the first audio
 * frame of the next state's prompt leaving it. The session, flow machine, supervisor, effect runner, prompt cache
 * (warm, real flite audio), pacer and call journal are the server's own; only the websocket is replaced by a
 * recorder, so the figure is the server's work, not the network's. Each transition journals the key before the
 * machine sees it and the prompt before it is played, in the store STORE_URL names (default: SQLite in a
 * temporary file, as the server's default). Usage: node --import tsx bench/transition.ts [transitions=2000]
 */
import { PacerClock } from '../src/audio/pacer.ts';
import { MediaSession, type StreamSocket } from '../src/call/session.ts';
import { compileFlow, validateFlow } from '../src/flow/index.ts';
import { memoryLogger } from '../src/observability/logger.ts';
import { createServerMetrics } from '../src/observability/metrics.ts';
import { FliteTts } from '../src/speech/tts/flite.ts';
import { PromptCache } from '../src/speech/tts/prompt-cache.ts';
import { InboundEncoder } from '../src/telephony/media-streams.ts';
import { percentile } from './server-process.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/journal/open-store.ts';
import { streamParams, testJournals } from '../test/fixtures/journals.ts';

const transitions = Number(process.argv[2] ?? 2000);

// Two states that send each other back and forth on key 1, each with a prompt of its own.
const result = validateFlow({
  id: 'pingpong',
  version: 1,
  start: 'ping',
  states: {
    ping: { say: 'Ping. Press 1 for pong.', on: { 'dtmf:1': 'pong' } },
    pong: { say: 'Pong. Press 1 for ping.', on: { 'dtmf:1': 'ping' } },
  },
  policy: { noInputMs: 60_000 },
});
if (!result.ok) throw new Error(JSON.stringify(result.findings));

let waiting: ((at: number) => void) | null = null;
const socket: StreamSocket = {
  bufferedAmount: 0,
  send(data: string) {
    if (waiting && data.includes('"event":"media"')) {
      const done = waiting;
      waiting = null;
      done(performance.now());
    }
  },
  close() {},
};

const tts = new FliteTts();
await tts.warmUp();
const prompts = new PromptCache(tts);
const clock = new PacerClock();
const dir = mkdtempSync(join(tmpdir(), 'sb-transition-'));
const store = await openStore(process.env.STORE_URL ?? `sqlite:${join(dir, 'calls.db')}`, {
  logger: memoryLogger('warn').logger,
});
const journals = await testJournals(store);
const session = new MediaSession(socket, {
  journals,
  flows: new Map([['pingpong', compileFlow(result.flow)]]),
  defaultFlow: 'pingpong',
  prompts,
  pacerClock: clock,
  metrics: createServerMetrics(),
  logger: memoryLogger('warn').logger,
});
const enc = new InboundEncoder({ streamSid: 'MZbench', callSid: 'CAbench', accountSid: 'ACbench' });

const firstFrame = (): Promise<number> => new Promise((resolve) => (waiting = resolve));
let arrived = firstFrame();
session.handleMessage(enc.connected());
session.handleMessage(enc.start(await streamParams(journals, 'CAbench', 'pingpong')));
await arrived;

const latencies: number[] = [];
// The first round trip synthesizes both prompts; only transitions with a warm cache are measured.
const WARM_UP = 4;
for (let i = 0; i < WARM_UP + transitions; i++) {
  const message = enc.dtmf('1');
  arrived = firstFrame();
  const sent = performance.now();
  session.handleMessage(message);
  const latency = (await arrived) - sent;
  if (i >= WARM_UP) latencies.push(latency);
}
session.handleMessage(enc.stop());
clock.stop();
await tts.close();
await store.close();
rmSync(dir, { recursive: true, force: true });

console.log(
  `transition latency (DTMF in -> first frame of the next prompt out) over ${transitions} transitions, journal: ${store.kind}`,
);
console.log(
  `  p50 ${(percentile(latencies, 50) * 1000).toFixed(0)} us, p99 ${(percentile(latencies, 99) * 1000).toFixed(0)} us, max ${(Math.max(...latencies) * 1000).toFixed(0)} us`,
);
