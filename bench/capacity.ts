/**
 * Capacity of one box: `switchboard serve` with WORKERS processes (2: one per core here) under `switchboard load`
 * on the same machine, several runs, the median of each figure per step. Scenarios:
 * - google:   talking calls (each caller says "yes" every 6 s; the agent asks again), STT and TTS on the local
 *             fake of Google's services (bench/fake-google-process.ts, a process of its own);
 * - offline:  the same with the embedded engines (pocketsphinx, Silero VAD, flite);
 * - silent:   silent listening calls, against Switchboard (offline engines) and against the bare websocket floor
 *             (bench/bare-websocket.ts) in the same run: server CPU per call-second of each;
 * - overload: offline talking calls offered at twice the capacity set by MAX_CALLS (per worker): admitted
 *             calls' turns, refused callers' answers, and what the journal holds for refused calls.
 * Usage: node --import tsx bench/capacity.ts SCENARIO [--runs 3] [--workers 2] [--calls N,N] [--hold 30s]
 *        [--ramp 20] [--max-calls 75] [--env NAME=VALUE ...] [--profile DIR]
 * --profile writes a CPU profile of each server process (.cpuprofile, for Chrome's DevTools) into DIR.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../src/journal/open-store.ts';
import { cpuMs, sampleTree } from '../src/load/process-stats.ts';
import type { LoadResult, StepReport } from '../src/load/report.ts';
import { memoryLogger } from '../src/observability/logger.ts';
import { startServerProcess, type ServerProcess } from './server-process.ts';
import { YES_NO_FLOW } from './yes-no-flow.ts';

const SCENARIOS = ['google', 'offline', 'silent', 'overload'] as const;
type Scenario = (typeof SCENARIOS)[number];
const DEFAULT_CALLS: Record<Scenario, string> = {
  google: '100,200,300,400,500',
  offline: '50,100,150',
  silent: '100,200',
  overload: '300',
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '3' },
    workers: { type: 'string', default: '2' },
    calls: { type: 'string' },
    hold: { type: 'string', default: '30s' },
    ramp: { type: 'string', default: '20' },
    'max-calls': { type: 'string', default: '75' },
    /** More of the server's environment, e.g. ADMISSION=off to measure what the box carries unguarded. */
    env: { type: 'string', multiple: true, default: [] },
    profile: { type: 'string' },
  },
});
const scenario = positionals[0] as Scenario;
if (!SCENARIOS.includes(scenario)) {
  throw new Error(`usage: bench/capacity.ts ${SCENARIOS.join('|')} [--runs 3] [--workers 2] [--calls N,N]`);
}
const runs = Number(values.runs);
const workers = values.workers;
const calls = values.calls ?? DEFAULT_CALLS[scenario];
const BIN = new URL('../bin/switchboard.js', import.meta.url).pathname;
const FLOW = YES_NO_FLOW;

/** A child process until it prints a line matching `ready`; resolves with the match. */
async function startProcess(
  args: string[],
  ready: RegExp,
): Promise<{ stop: () => void; match: RegExpExecArray; cpuMs: () => number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = ready.exec(out);
      if (m) resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}: ${out}`)));
  });
  return { stop: () => child.kill('SIGTERM'), match, cpuMs: () => cpuMs(child.pid!) };
}

/** `switchboard load --json` against `url`; resolves with its result. */
async function load(url: string, extra: string[]): Promise<LoadResult> {
  const args = [BIN, 'load', '--url', url, '--calls', calls, '--ramp', values.ramp, '--hold', values.hold];
  const child = spawn(process.execPath, [...args, ...extra, '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  // The generator is this process's child: once reaped, its CPU time shows in this process's children's.
  const [cpuBefore, started] = [cpuMs(process.pid, 'ended children'), performance.now()];
  await new Promise((resolve) => child.once('exit', resolve));
  const cores = (cpuMs(process.pid, 'ended children') - cpuBefore) / (performance.now() - started);
  console.log(`  generator: ${cores.toFixed(2)} cores over its run`);
  const line = out.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as LoadResult;
}

const TALK = ['--say', 'yes', '--every', '6s'];

async function server(dir: string, env: Record<string, string>): Promise<ServerProcess> {
  const s = await startServerProcess(
    {
      FLOWS_DIR: dir,
      MODELS_DIR: join(dir, 'models'),
      PROMPT_CACHE_DIR: join(dir, 'prompts'),
      DEFAULT_FLOW: 'bench',
      WORKERS: workers,
      LOG_LEVEL: 'warn',
      ...env,
      ...Object.fromEntries(
        values.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      ),
    },
    values.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${values.profile}`],
  );
  // Settled after start-up: the base memory calls add to.
  await new Promise((r) => setTimeout(r, 3000));
  const idle = sampleTree(s.child.pid!);
  console.log(`  server idle: ${idle.rssMiB.toFixed(0)} MiB RSS in ${idle.processes} processes`);
  return s;
}

/** What the server's saturation monitor said during the run: how often each signal saturated a worker. */
function saturation(s: ServerProcess): string {
  const saturated = s.logs().filter((l) => String(l.msg).startsWith('process saturated'));
  if (saturated.length === 0) return 'never saturated';
  const by = new Map<string, number>();
  for (const l of saturated) by.set(String(l.reason), (by.get(String(l.reason)) ?? 0) + 1);
  const max = (key: string): string => Math.max(...saturated.map((l) => Number(l[key]))).toFixed(1);
  return (
    `saturated ${[...by].map(([reason, n]) => `${n}x ${reason}`).join(', ')} (at most: loop delay ` +
    `${max('loopDelayMs')} ms, ${max('framesLatePerS')} late frames/s, ${max('droppedPerS')} dropped/s)`
  );
}

/** One run of the scenario: its load result(s), and for overload what the journal held. */
async function run(dir: string, index: number): Promise<{ label: string; result: LoadResult }[]> {
  const store = `sqlite:${join(dir, `calls-${index}.db`)}`;
  if (scenario === 'google') {
    const google = await startProcess(['bench/fake-google-process.ts'], /fake google on (\S+)/);
    const s = await server(dir, {
      STORE_URL: store,
      STT: 'google',
      TTS: 'google',
      GOOGLE_API_ENDPOINT: google.match[1]!,
    });
    try {
      const [before, started] = [google.cpuMs(), performance.now()];
      const result = await load(s.url, TALK);
      const cores = (google.cpuMs() - before) / (performance.now() - started);
      console.log(`  fake Google: ${cores.toFixed(2)} cores over the run`);
      console.log(`  server: ${saturation(s)}`);
      return [{ label: 'switchboard (Google fake)', result }];
    } finally {
      await s.stop();
      google.stop();
    }
  }
  if (scenario === 'silent') {
    const floor = await startProcess(['bench/bare-websocket.ts'], /listening on (\S+)/);
    const bare = await load(floor.match[1]!, []);
    floor.stop();
    const s = await server(dir, { STORE_URL: store });
    try {
      return [
        { label: 'bare websocket floor', result: bare },
        { label: 'switchboard (offline engines)', result: await load(s.url, []) },
      ];
    } finally {
      await s.stop();
    }
  }
  const limit: Record<string, string> =
    scenario === 'overload' ? { MAX_CALLS: values['max-calls'] ?? '75' } : {};
  const s = await server(dir, { STORE_URL: store, ...limit });
  let result: LoadResult;
  try {
    result = await load(s.url, TALK);
    console.log(`  server: ${saturation(s)}`);
  } finally {
    await s.stop();
  }
  if (scenario === 'overload') await checkJournal(store, result);
  return [{ label: 'switchboard (offline engines)', result }];
}

/** Overload: every refused call left exactly one record, its refusal, and no admitted call was refused there. */
async function checkJournal(url: string, result: LoadResult): Promise<void> {
  const store = await openStore(url, { logger: memoryLogger().logger });
  try {
    const summaries = await store.list(100_000);
    let refusals = 0;
    let more = 0;
    for (const summary of summaries) {
      const records = await store.read(summary.callId);
      if (!records.some((r) => r.line.includes('refused: all lines busy'))) continue;
      refusals += 1;
      if (records.length !== 1) more += 1;
    }
    const refused = result.steps.reduce((sum, step) => sum + step.refused, 0);
    console.log(
      `  journal: ${refusals} refused calls journaled (generator counted ${refused}), ${more} of them with more than the refusal`,
    );
  } finally {
    await store.close();
  }
}

const median = (xs: number[]): number => {
  const sorted = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor((sorted.length - 1) / 2)]!;
};
const pct = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);

function line(step: StepReport): string {
  const t = step.turns;
  const answered = t.total === 0 ? null : t.answered / t.total;
  const server = step.server;
  return (
    `${step.target} calls: ${step.connected} connected, ${step.refused} refused` +
    `${
      Object.keys(step.notConnected).length
        ? ` (${Object.entries(step.notConnected)
            .map(([why, n]) => `${n} ${why}`)
            .join(', ')})`
        : ''
    }; ` +
    `turns ${t.answered}/${t.total} ` +
    `(${pct(answered)}, ${pct(t.withinTarget)} within 1.5 s), p50/p95/p99 ${t.latencyMs.p50 ?? '-'}/` +
    `${t.latencyMs.p95 ?? '-'}/${t.latencyMs.p99 ?? '-'} ms; jitter p99 ${step.agentAudio.jitterP99Ms ?? '-'} ms, ` +
    `${step.agentAudio.lateGaps} gaps over 60 ms, ${step.agentAudio.stalls} stalls (longest break ` +
    `${step.agentAudio.longestBreakMs} ms); server ${server ? `${server.cores.toFixed(2)} cores, ` : ''}` +
    `${server?.msPerCallSecond?.toFixed(2) ?? '-'} ms/call-s, ${server?.rssMiB.toFixed(0) ?? '-'} MiB; ` +
    `generator loop p99 ${step.generatorLoopDelayP99Ms.toFixed(1)} ms${step.warning ? ' (WARNING)' : ''}`
  );
}

const dir = await mkdtemp(join(tmpdir(), 'switchboard-bench-capacity-'));
await writeFile(join(dir, 'bench.json'), JSON.stringify(FLOW));
const all = new Map<string, StepReport[][]>();
try {
  for (let i = 1; i <= runs; i++) {
    for (const { label, result } of await run(dir, i)) {
      console.log(`run ${i}, ${label}${result.stopped ? ` (stopped: ${result.stopped})` : ''}`);
      for (const step of result.steps) console.log(`  ${line(step)}`);
      all.set(label, [...(all.get(label) ?? []), result.steps]);
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

console.log(
  `\n${scenario}: median of ${runs} runs, WORKERS=${workers}, hold ${values.hold}, ramp ${values.ramp}/s`,
);
for (const [label, byRun] of all) {
  console.log(label);
  const steps = byRun[0]?.length ?? 0;
  for (let s = 0; s < steps; s++) {
    const of = (f: (step: StepReport) => number | null | undefined): number =>
      median(byRun.map((steps) => steps[s]).flatMap((step) => (step ? [f(step) ?? NaN] : [])));
    const target = byRun[0]![s]!.target;
    console.log(
      `  ${target} calls: answered ${(100 * of((x) => (x.turns.total ? x.turns.answered / x.turns.total : null))).toFixed(1)}%, ` +
        `within 1.5 s ${(100 * of((x) => x.turns.withinTarget)).toFixed(1)}%, latency p50 ${of((x) => x.turns.latencyMs.p50)} ` +
        `p95 ${of((x) => x.turns.latencyMs.p95)} p99 ${of((x) => x.turns.latencyMs.p99)} ms, refused ${of((x) => x.refused)}, ` +
        `gaps over 60 ms ${of((x) => x.agentAudio.lateGaps)}, stalls ${of((x) => x.agentAudio.stalls)} ` +
        `(longest break ${of((x) => x.agentAudio.longestBreakMs)} ms), jitter p99 ${of((x) => x.agentAudio.jitterP99Ms)} ms, ` +
        `server ${of((x) => x.server?.cores).toFixed(2)} cores, ${of((x) => x.server?.msPerCallSecond).toFixed(2)} ms/call-s, ` +
        `${of((x) => x.server?.rssMiB).toFixed(0)} MiB, generator loop p99 ${of((x) => x.generatorLoopDelayP99Ms).toFixed(1)} ms`,
    );
  }
}
