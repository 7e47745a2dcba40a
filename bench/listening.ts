/**
 * CPU per concurrent listening call, against a real `switchboard serve` (Silero VAD batched across calls,
 * pocketsphinx decoders). N simulated callers stay in a state that waits for an answer (no-input wait of 60 s),
 * and the server's CPU time (user + system, all threads, from /proc/<pid>/stat; its child processes too: flite,
 * and the decoders when they run as processes) is measured over a steady window that starts a few seconds after
 * every call has heard its greeting. Two workloads:
 * - silent: the callers stream silence, which is most of a call;
 * - talking: each caller says "yes" (flite voice kal) whenever the agent has asked, and the agent asks again, so
 *   the VAD triggers and pocketsphinx decodes a turn every few seconds per call.
 * Reported: server CPU in % of one core and in ms per call per second of call, raw, with the idle server (no
 * calls) subtracted, and per call added since the previous count (the VAD's batched run every 32 ms is paid
 * once for all calls, so the first call costs more than the next), the server's RSS, the simulator's own CPU
 * (it runs on the same machine), and for talking callers the turns recognized and their latency. Frames lost on the way in show in the server's "call ended"
 * counters; the VAD's own queue drops are not exposed, so the /healthz round trip stands in for event-loop
 * stalls (a stall over 256 ms can overflow a VAD stream's queue).
 * Usage: node --import tsx bench/listening.ts [calls=1,5,10,20] [seconds=20]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { placeCall, type CallerInput, type SimulatedCallResult } from '../src/simulator/caller.ts';
import { FliteTts } from '../src/speech/tts/flite.ts';
import { percentile, startServerProcess } from './server-process.ts';
import { YES_NO_FLOW } from './yes-no-flow.ts';

const counts = (process.argv[2] ?? '1,5,10,20').split(',').map(Number);
const seconds = Number(process.argv[3] ?? 20);
if (!counts.every((n) => Number.isInteger(n) && n > 0) || !(seconds > 0))
  throw new Error('usage: node --import tsx bench/listening.ts [calls=1,5,10,20] [seconds=20]');
/** Skipped after every call is connected: greetings still playing, first turns, lockstep start-up. */
const SETTLE_MS = 4000;
/** Pause between calls of a step, so talking callers do not all speak at the same instant. */
const STAGGER_MS = 3000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// With the caller's "yes" and the 400 ms pause before it, one turn every ~3 s.
const FLOW = YES_NO_FLOW;

const dir = await mkdtemp(join(tmpdir(), 'switchboard-bench-listening-'));
await writeFile(join(dir, 'bench.json'), JSON.stringify(FLOW));
const server = await startServerProcess({
  FLOWS_DIR: dir,
  MODELS_DIR: join(dir, 'models'),
  DEFAULT_FLOW: 'bench',
  LOG_LEVEL: 'info',
});
if (!/STT pocketsphinx/.test(server.output())) {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
  throw new Error(
    'the server has no speech recognition (banner lacks "STT pocketsphinx"): install libpocketsphinx3 and ' +
      'pocketsphinx-en-us, or this measures keypad calls that never listen',
  );
}

// A server that dies mid-run would otherwise surface as a missing /proc entry or a failed fetch.
let stopping = false;
server.child.once('exit', (code, signal) => {
  if (stopping) return;
  const tail = server.output().trimEnd().split('\n').slice(-8).join('\n');
  console.error(`the server exited during the run (${signal ?? `code ${code}`}); its last output:\n${tail}`);
  process.exit(1);
});

const voice = new FliteTts({ voice: 'kal' });
const yes = (await voice.synthesize({ text: 'yes' })).mulaw;
await voice.close();

type Workload = 'silent' | 'talking';
const inputs = (workload: Workload): CallerInput[] =>
  workload === 'silent'
    ? []
    : Array.from({ length: 1000 }, () => ({ kind: 'speech' as const, text: 'yes', audio: yes }));

type Log = Record<string, unknown>;
const logsSince = (from: number): Log[] => server.logs().slice(from);

interface Sample {
  at: number;
  serverMs: number;
  childrenMs: number;
  simMs: number;
  logs: number;
}
const sample = (): Sample => {
  const sim = process.cpuUsage();
  return {
    at: performance.now(),
    serverMs: server.cpuMs(),
    childrenMs: server.childrenCpuMs(),
    simMs: (sim.user + sim.system) / 1000,
    logs: server.logs().length,
  };
};

/** Samples RSS and the /healthz round trip until stopped: the server's worst loop stall shows in the latter. */
function watch(): () => Promise<{ rssMiB: number; childrenRssMiB: number; healthMs: number[] }> {
  let running = true;
  let rssMiB = 0;
  let childrenRssMiB = 0;
  const healthMs: number[] = [];
  const loop = (async () => {
    while (running) {
      rssMiB = Math.max(rssMiB, server.rssMiB());
      childrenRssMiB = Math.max(childrenRssMiB, server.childrenRssMiB());
      const t = performance.now();
      await (await fetch(`${server.url}/healthz`)).text();
      healthMs.push(performance.now() - t);
      await sleep(250);
    }
  })();
  return async () => {
    running = false;
    await loop;
    return { rssMiB, childrenRssMiB, healthMs };
  };
}

interface Window {
  ms: number;
  serverMs: number;
  childrenMs: number;
  simMs: number;
  rssMiB: number;
  childrenRssMiB: number;
  healthMs: number[];
  logs: Log[];
}

async function measure(ms: number): Promise<Window> {
  const stop = watch();
  const a = sample();
  await sleep(ms);
  const b = sample();
  const { rssMiB, childrenRssMiB, healthMs } = await stop();
  return {
    ms: b.at - a.at,
    serverMs: b.serverMs - a.serverMs,
    childrenMs: b.childrenMs - a.childrenMs,
    simMs: b.simMs - a.simMs,
    rssMiB,
    childrenRssMiB,
    healthMs,
    logs: server.logs().slice(a.logs, b.logs),
  };
}

interface Step {
  workload: Workload;
  calls: number;
  window: Window;
  /** Turns the callers started saying inside the window. */
  spoken: number;
  /** From the server's "call ended": frames received, gaps filled with silence, frames out of order. */
  framesIn: number;
  gapFilled: number;
  outOfOrder: number;
  failed: number;
}

async function step(workload: Workload, calls: number): Promise<Step> {
  const controller = new AbortController();
  const logFrom = server.logs().length;
  let greeted = 0;
  let allGreeted: () => void = () => {};
  const ready = new Promise<void>((resolve) => (allGreeted = resolve));
  let counting = false;
  let spoken = 0;
  const live: Promise<SimulatedCallResult | null>[] = [];
  for (let i = 0; i < calls; i++) {
    let first = true;
    live.push(
      placeCall({
        url: server.url,
        inputs: inputs(workload),
        idleHangupMs: 600_000,
        maxDurationMs: 600_000,
        signal: controller.signal,
        onEvent: (e) => {
          if (e.kind === 'agent' && first) {
            first = false;
            if (++greeted === calls) allGreeted();
          }
          if (e.kind === 'speech' && counting) spoken++;
        },
      }).catch((err: unknown) => {
        console.error(`a ${workload} call failed: ${String(err)}`);
        if (++greeted === calls) allGreeted();
        return null;
      }),
    );
    if (i < calls - 1) await sleep(STAGGER_MS / calls);
  }
  await ready;
  await sleep(SETTLE_MS);
  counting = true;
  const window = await measure(seconds * 1000);
  counting = false;
  controller.abort();
  const results = await Promise.all(live);
  // The server logs "call ended" once it has seen the caller's stop.
  await sleep(1000);
  const sids = new Set(results.map((r) => r?.callSid));
  const ended = logsSince(logFrom).filter((r) => r.msg === 'call ended' && sids.has(r.callId as string));
  const sum = (key: string): number => ended.reduce((s, r) => s + Number(r[key] ?? 0), 0);
  return {
    workload,
    calls,
    window,
    spoken,
    framesIn: sum('framesIn'),
    gapFilled: sum('gapFilledFrames'),
    outOfOrder: sum('outOfOrderFrames'),
    failed: calls - ended.length,
  };
}

// Warm-up: prompts cached, intent model loaded, decoders past their first search.
await placeCall({
  url: server.url,
  inputs: inputs('talking').slice(0, 2),
  idleHangupMs: 500,
  maxDurationMs: 30_000,
});
// Settle, so the idle window holds none of the warm-up call's tail.
await sleep(6000);

const idle = await measure(seconds * 1000);
/** Server CPU (process and children) in ms per second of wall time. */
const cpuPerS = (w: Window): number => ((w.serverMs + w.childrenMs) * 1000) / w.ms;
const idleMsPerS = cpuPerS(idle);
const steps: Step[] = [];
for (const workload of ['silent', 'talking'] as const)
  for (const calls of counts) {
    steps.push(await step(workload, calls));
    await sleep(2000);
  }
stopping = true;
await server.stop();
await rm(dir, { recursive: true, force: true });

const pct = (cpuMs: number, w: Window): string => ((cpuMs * 100) / w.ms).toFixed(1);
const cpu = (w: Window): string =>
  `${pct(w.serverMs + w.childrenMs, w)} (${pct(w.serverMs, w)}+${pct(w.childrenMs, w)})`;
const rss = (w: Window): string => `${w.rssMiB.toFixed(0)}+${w.childrenRssMiB.toFixed(0)}`;
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(
  `CPU per concurrent listening call: switchboard serve (STT pocketsphinx, Silero VAD), ${seconds} s window ` +
    `from ${SETTLE_MS / 1000} s after every call was connected; load average at the end ${load}`,
);
console.log(
  `idle server (no calls): ${cpu(idle)} % of one core (${idleMsPerS.toFixed(2)} ms CPU/s), RSS ${rss(idle)} MiB`,
);
const header = [
  'workload',
  'calls',
  'CPU % (main+children)',
  'ms/call/s',
  'minus idle',
  'per added call',
  'RSS MiB',
  'sim CPU %',
  'turns heard/spoken (yes)',
  'transcript p50/p99 ms',
  'healthz p99/max ms',
  'frames lost',
];
const rows = steps.map((s, i) => {
  const w = s.window;
  const perS = cpuPerS(w);
  const prev = steps[i - 1]?.workload === s.workload ? steps[i - 1]! : null;
  const added = (perS - (prev ? cpuPerS(prev.window) : idleMsPerS)) / (s.calls - (prev?.calls ?? 0));
  const heard = w.logs.filter((r) => r.msg === 'caller heard');
  const latency = w.logs.filter((r) => r.msg === 'turn latency').map((r) => Number(r.transcriptMs));
  const talking = s.workload === 'talking';
  return [
    s.workload,
    String(s.calls),
    cpu(w),
    (perS / s.calls).toFixed(2),
    ((perS - idleMsPerS) / s.calls).toFixed(2),
    added.toFixed(2),
    rss(w),
    pct(w.simMs, w),
    talking
      ? `${heard.length}/${s.spoken} (${heard.filter((r) => r.intent === 'yes').length})`
      : String(heard.length),
    talking && latency.length > 0
      ? `${percentile(latency, 50).toFixed(0)}/${percentile(latency, 99).toFixed(0)}`
      : '-',
    `${percentile(w.healthMs, 99).toFixed(0)}/${Math.max(...w.healthMs).toFixed(0)}`,
    // Loopback TCP loses nothing: a gap filled or a frame out of order would be the server falling behind.
    `${s.gapFilled + s.outOfOrder} of ${s.framesIn}${s.failed > 0 ? `, ${s.failed} calls failed` : ''}`,
  ];
});
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
console.log(line(header));
for (const r of rows) console.log(line(r));
console.log(
  `CPU: user + system, all threads, of the server process (main) and its child processes (flite; the ` +
    `decoders when they run as processes); ms/call/s: that CPU in ms per call per second of call; "minus idle" ` +
    `subtracts the idle server's ${idleMsPerS.toFixed(2)} ms/s; "per added call": the increase over the ` +
    `previous row (or idle), per call added. RSS: peak in the window, main+children.`,
);
console.log(
  `sim CPU %: this process (the simulated callers and the /healthz probe), which shares the ` +
    `${cpus().length}-core machine with the server.`,
);
console.log(
  `turns: "caller heard" logs in the window / turns the callers started in it (understood as yes); ` +
    `transcript: end of turn decided -> transcript. healthz: round trip of GET /healthz every 250 ms, an upper ` +
    `bound on server loop stalls (the VAD's drops are not exposed; a stall over 256 ms can overflow its queue). ` +
    `frames lost: inbound frames the server filled with silence or got out of order.`,
);
