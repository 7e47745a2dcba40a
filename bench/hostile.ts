/**
 * Hostile clients against a live `switchboard serve` (one process, the embedded engines, no TWILIO_AUTH_TOKEN so
 * that streams reach the protocol), with its default edge limits. First a control: 20 good talking calls from
 * `switchboard load` alone for 30 s. Then 20 good calls again while, for --seconds, every kind of hostile client
 * of test/support/hostile-clients.ts opens connections, each kind from an address of its own, and after it until
 * the hostile clients are gone and the memory has settled. Per run it prints, per kind, the connections
 * opened, those ended as the kind expects (its close code or status, or 429 from the limits) and any others; the
 * good calls' longest break in their agent audio, arrival gaps over 60 ms and frames lost each way (the
 * generator's counts against the server's "call ended" lines); the CPU of the server and of the hostile clients,
 * and whether the server saturated; and the server's memory with the good calls alone, at its peak, and once the
 * hostile clients are gone and --settle seconds have passed: its RSS, and its V8 heap after a full collection
 * (read through the inspector). Then the median of the runs. --kinds runs only the kinds whose names contain one
 * of its comma-separated words, to see what each costs; --profile DIR writes a CPU profile of the server there.
 * Usage: node --import tsx bench/hostile.ts [--runs 3] [--seconds 60] [--settle 15] [--calls 20] [--kinds a,b]
 *        [--profile DIR]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { LoadResult } from '../src/load/report.ts';
import { postWebhook } from '../src/simulator/webhook.ts';
import {
  HOSTILE_CALL_PREFIX,
  HOSTILE_KINDS,
  runKind,
  type HostileTarget,
  type KindResult,
} from '../test/support/hostile-clients.ts';
import { freePort, heapAfterGcMiB } from './inspector-heap.ts';
import { startServerProcess, type ServerProcess } from './server-process.ts';
import { YES_NO_FLOW } from './yes-no-flow.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '60' },
    settle: { type: 'string', default: '15' },
    calls: { type: 'string', default: '20' },
    kinds: { type: 'string' },
    profile: { type: 'string' },
  },
});
const KINDS = HOSTILE_KINDS.filter(
  (k) =>
    !values.kinds ||
    values.kinds.split(',').some((w) => k.name.toLowerCase().includes(w.trim().toLowerCase())),
);
const RUNS = Number(values.runs);
const SECONDS = Number(values.seconds);
const SETTLE_S = Number(values.settle);
const CALLS = Number(values.calls);
/** First, a control: the good calls alone, held this long, measured the same way on the same busy machine. */
const CONTROL_S = 30;
/** Then the good calls again, alone for this long before the hostile clients start: the memory baseline. */
const BASELINE_S = 5;
/** Hostile connections still open at --seconds end within this (the slowest: a stream that never starts). */
const DRAIN_S = 20;
const BIN = new URL('../bin/switchboard.js', import.meta.url).pathname;

/**
 * Per kind: connections at once, and the pause between one slot's connections (ms). The kinds that hold sockets
 * open use more slots than the per-source cap (64): those past it are refused and try again every `gapMs`.
 */
const PLAN: Record<string, { concurrency: number; gapMs: number }> = {
  'malformed JSON': { concurrency: 4, gapMs: 50 },
  'binary frame': { concurrency: 4, gapMs: 50 },
  '10 MB frame': { concurrency: 1, gapMs: 200 },
  'events out of order': { concurrency: 4, gapMs: 50 },
  'media for another stream': { concurrency: 2, gapMs: 100 },
  'flood of marks': { concurrency: 1, gapMs: 100 },
  'flood of keys': { concurrency: 1, gapMs: 100 },
  'never sends start': { concurrency: 100, gapMs: 250 },
  'slow headers (HTTP)': { concurrency: 100, gapMs: 250 },
  'slow headers (upgrade)': { concurrency: 100, gapMs: 250 },
  'stalls mid-frame': { concurrency: 80, gapMs: 250 },
  'stolen ticket, reconnecting': { concurrency: 1, gapMs: 20 },
  'expired ticket, reconnecting': { concurrency: 1, gapMs: 20 },
  'unauthenticated requests': { concurrency: 4, gapMs: 10 },
};

/** What the good calls heard of the agent's audio, and what the server saw of its own sending. */
interface Audio {
  longestBreakMs: number;
  lateGaps: number;
  jitterP99Ms: number | null;
  generatorLoopP99Ms: number;
  /** Agent frames the server sent more than 20 ms after they were due, and its worst event-loop p99 of a second. */
  server: { framesLate: number; loopP99Ms: number };
}

function audioOf(result: LoadResult, server: Audio['server']): Audio {
  const step = result.steps[0];
  if (!step) throw new Error(`the good calls did not run: ${result.stopped}`);
  return {
    longestBreakMs: step.agentAudio.longestBreakMs,
    lateGaps: step.agentAudio.lateGaps,
    jitterP99Ms: step.agentAudio.jitterP99Ms,
    generatorLoopP99Ms: step.generatorLoopDelayP99Ms,
    server,
  };
}

/**
 * The server's own figures, read from /metrics every second until `stop`: agent frames sent late since it began,
 * and the worst of its event loop's p99 delay over each second.
 */
function watchServer(url: string): { stop(): Promise<Audio['server']> } {
  const read = async (): Promise<{ late: number; loop: number }> => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
    return {
      late: value('switchboard_outbound_frames_late_total'),
      loop: value('switchboard_event_loop_delay_p99_ms'),
    };
  };
  const first = read();
  let loopP99Ms = 0;
  const timer = setInterval(() => {
    void read().then((r) => (loopP99Ms = Math.max(loopP99Ms, r.loop)));
  }, 1000);
  return {
    async stop() {
      clearInterval(timer);
      const last = await read();
      return { framesLate: last.late - (await first).late, loopP99Ms: Math.max(loopP99Ms, last.loop) };
    },
  };
}

interface RunFigures {
  kinds: KindResult[];
  /** The good calls alone, then with the hostile clients (the server's figures while they ran). */
  control: Audio;
  hostile: Audio;
  longestBreakMs: number;
  lateGaps: number;
  jitterP99Ms: number | null;
  connected: number;
  endedByServer: number;
  framesInLost: number;
  framesOutLost: number;
  generatorLoopP99Ms: number;
  rss: { idle: number; baseline: number; peak: number; after: number };
  heap: { baseline: number; after: number };
  /** CPU over the hostile phase, in cores: the server's, and this process's (the hostile clients'). */
  cores: { server: number; clients: number };
  /** The machine's 1-minute load average as the hostile clients stopped (2 cores: other work shares them). */
  loadAverage: number;
  /** The server's saturation monitor: how many seconds it said the process was saturated, by reason. */
  saturated: Record<string, number>;
  refusals: Record<string, number>;
  /** Lines the server logged over the whole run, the good calls' included. */
  logLines: number;
}

/** `switchboard load --json` for the whole run; resolves with its result. */
function goodCalls(url: string, holdS: number): Promise<LoadResult> {
  const args = [BIN, 'load', '--url', url, '--calls', String(CALLS), '--ramp', '20', '--hold', `${holdS}s`];
  const child = spawn(process.execPath, [...args, '--say', 'yes', '--every', '6s', '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (line.startsWith('{')) resolve(JSON.parse(line) as LoadResult);
      else reject(new Error(`switchboard load exited with ${code}: ${out.slice(-500)}`));
    }),
  );
}

/** New calls through the voice webhook, as Twilio would place them: their stream's path and parameters. */
function targetOf(url: string): HostileTarget {
  return {
    url,
    ticket: async (callSid) => {
      const params = {
        CallSid: callSid,
        AccountSid: 'AC' + '0'.repeat(32),
        From: '+15005550006',
        To: '+15005550001',
      };
      const { twiml } = await postWebhook(`${url}/twilio/voice`, params, null, undefined);
      if (!twiml.connect) return null; // all lines busy: admission control turned the call away
      return { path: new URL(twiml.connect.streamUrl).pathname, params: twiml.connect.parameters };
    },
  };
}

async function run(dir: string, index: number): Promise<RunFigures> {
  const inspectPort = await freePort();
  const server: ServerProcess = await startServerProcess(
    {
      FLOWS_DIR: dir,
      MODELS_DIR: join(dir, 'models'),
      PROMPT_CACHE_DIR: join(dir, 'prompts'),
      STORE_URL: `sqlite:${join(dir, `calls-${index}.db`)}`,
      DEFAULT_FLOW: 'bench',
      LOG_LEVEL: 'info',
    },
    [
      `--inspect=127.0.0.1:${inspectPort}`,
      ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : []),
    ],
  );
  try {
    await sleep(3000);
    const idle = server.rssMiB();
    const watchControl = watchServer(server.url);
    const control = await goodCalls(server.url, CONTROL_S);
    const controlServer = await watchControl.stop();
    const load = goodCalls(server.url, BASELINE_S + SECONDS + DRAIN_S + SETTLE_S + 5);
    await sleep(BASELINE_S * 1000);
    const baseline = { rss: server.rssMiB(), heap: await heapAfterGcMiB(inspectPort) };
    let peak = baseline.rss;
    const sampler = setInterval(() => (peak = Math.max(peak, server.rssMiB())), 500);
    const target = targetOf(server.url);
    const started = { at: performance.now(), server: server.cpuMs(), clients: process.cpuUsage() };
    const watchHostile = watchServer(server.url);
    const until = Date.now() + SECONDS * 1000;
    const kinds = await Promise.all(
      KINDS.map((kind) =>
        runKind(kind, target, {
          source: `127.0.0.${10 + HOSTILE_KINDS.indexOf(kind)}`,
          connections: Infinity,
          until,
          ...PLAN[kind.name]!,
        }),
      ),
    );
    const hostileServer = await watchHostile.stop();
    const loadAverage = loadavg()[0]!;
    const elapsedMs = performance.now() - started.at;
    const clientsCpu = process.cpuUsage(started.clients);
    const cores = {
      server: (server.cpuMs() - started.server) / elapsedMs,
      clients: (clientsCpu.user + clientsCpu.system) / 1000 / elapsedMs,
    };
    console.log(`  hostile clients done ${((Date.now() - until) / 1000).toFixed(1)} s after --seconds`);
    await sleep(SETTLE_S * 1000);
    clearInterval(sampler);
    const after = { rss: server.rssMiB(), heap: await heapAfterGcMiB(inspectPort) };
    const result = await load;
    const [step] = result.steps;
    if (!step) throw new Error(`the good calls did not run: ${result.stopped}`);
    const logs = server.logs();
    const ends = logs.filter(
      (l) =>
        l.msg === 'call ended' && typeof l.callId === 'string' && !l.callId.startsWith(HOSTILE_CALL_PREFIX),
    );
    const sum = (field: string): number => ends.reduce((n, l) => n + Number(l[field] ?? 0), 0);
    const frames = {
      sent: control.frames.sent + result.frames.sent,
      got: control.frames.received + result.frames.received,
    };
    const refusals: Record<string, number> = {};
    const saturated: Record<string, number> = {};
    for (const l of logs) {
      if (String(l.msg).startsWith('process saturated'))
        saturated[String(l.reason)] = (saturated[String(l.reason)] ?? 0) + 1;
      if (typeof l.code === 'string' && /^HTTP_(TOO_MANY|RATE|SERVER_FULL)/.test(l.code))
        refusals[l.code] = (refusals[l.code] ?? 0) + 1;
      if (l.msg === 'more refusals at the edge, counted')
        for (const [code, n] of Object.entries(l.refused as Record<string, number>))
          refusals[code] = (refusals[code] ?? 0) + n;
    }
    return {
      kinds,
      longestBreakMs: step.agentAudio.longestBreakMs,
      lateGaps: step.agentAudio.lateGaps,
      jitterP99Ms: step.agentAudio.jitterP99Ms,
      connected: step.connected,
      endedByServer: step.endedByServer,
      control: audioOf(control, controlServer),
      hostile: audioOf(result, hostileServer),
      framesInLost: frames.sent - sum('framesIn'),
      framesOutLost: sum('framesOut') - frames.got,
      generatorLoopP99Ms: step.generatorLoopDelayP99Ms,
      rss: { idle, baseline: baseline.rss, peak, after: after.rss },
      heap: { baseline: baseline.heap, after: after.heap },
      cores,
      loadAverage,
      saturated,
      refusals,
      logLines: logs.length,
    };
  } finally {
    await server.stop();
  }
}

function report(i: number, r: RunFigures): void {
  console.log(`run ${i}`);
  for (const k of r.kinds) {
    const outcomes = Object.entries(k.outcomes)
      .map(([o, n]) => `${n} ${o}`)
      .join(', ');
    console.log(
      `  ${k.kind.padEnd(30)} ${String(k.opened).padStart(5)} opened, ${k.opened - k.unexpected} as expected, ` +
        `${k.unexpected} not (${outcomes})`,
    );
  }
  console.log(
    `  good calls: ${r.connected} connected, ${r.endedByServer} ended by the server; longest break in agent audio ` +
      `${r.longestBreakMs} ms, ${r.lateGaps} arrival gaps over 60 ms, jitter p99 ${r.jitterP99Ms ?? '-'} ms; ` +
      `frames lost: ${r.framesInLost} caller to server, ${r.framesOutLost} server to caller; generator loop p99 ` +
      `${r.generatorLoopP99Ms.toFixed(1)} ms`,
  );
  const c = r.control;
  console.log(
    `  control, the good calls alone for ${CONTROL_S} s: longest break ${c.longestBreakMs} ms, ${c.lateGaps} ` +
      `arrival gaps over 60 ms, jitter p99 ${c.jitterP99Ms ?? '-'} ms; generator loop p99 ` +
      `${c.generatorLoopP99Ms.toFixed(1)} ms`,
  );
  const serverLine = (a: Audio): string =>
    `${a.server.framesLate} agent frames sent over 20 ms late, event loop p99 at worst ${a.server.loopP99Ms} ms`;
  console.log(`  server, good calls alone: ${serverLine(c)}; while hostile: ${serverLine(r.hostile)}`);
  console.log(
    `  CPU while hostile: server ${r.cores.server.toFixed(2)} cores, hostile clients ${r.cores.clients.toFixed(2)}; ` +
      `server saturated: ${JSON.stringify(r.saturated)}; machine load average ${r.loadAverage.toFixed(2)}`,
  );
  console.log(
    `  server RSS: ${r.rss.idle.toFixed(0)} MiB idle, ${r.rss.baseline.toFixed(0)} with the good calls, peak ` +
      `${r.rss.peak.toFixed(0)}, ${r.rss.after.toFixed(0)} after (${SETTLE_S} s settle); V8 heap after a full GC ` +
      `${r.heap.baseline.toFixed(1)} MiB with the good calls, ${r.heap.after.toFixed(1)} after`,
  );
  console.log(`  refusals at the edge (log): ${JSON.stringify(r.refusals)}`);
  const opened = r.kinds.reduce((n, k) => n + k.opened, 0);
  console.log(`  server log: ${r.logLines} lines in the run, for ${opened} hostile connections`);
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN;
};

const dir = await mkdtemp(join(tmpdir(), 'switchboard-bench-hostile-'));
await writeFile(join(dir, 'bench.json'), JSON.stringify(YES_NO_FLOW));
const runs: RunFigures[] = [];
try {
  for (let i = 1; i <= RUNS; i++) {
    const r = await run(dir, i);
    report(i, r);
    runs.push(r);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
const of = (f: (r: RunFigures) => number): number => median(runs.map(f));
console.log(`\nmedian of ${RUNS} runs, ${CALLS} good calls, hostile clients for ${SECONDS} s`);
for (const kind of KINDS) {
  const k = (r: RunFigures): KindResult => r.kinds.find((x) => x.kind === kind.name)!;
  console.log(
    `  ${kind.name.padEnd(30)} ${String(of((r) => k(r).opened)).padStart(5)} opened, ` +
      `${of((r) => k(r).opened - k(r).unexpected)} as expected (${kind.expected.join(' or ')}), ` +
      `${of((r) => k(r).unexpected)} not`,
  );
}
console.log(
  `  good calls: longest break ${of((r) => r.longestBreakMs)} ms, gaps over 60 ms ${of((r) => r.lateGaps)}, ` +
    `frames lost ${of((r) => r.framesInLost)} in / ${of((r) => r.framesOutLost)} out, ended by the server ` +
    `${of((r) => r.endedByServer)}`,
);
console.log(
  `  control, the good calls alone: longest break ${of((r) => r.control.longestBreakMs)} ms, gaps over 60 ms ` +
    `${of((r) => r.control.lateGaps)}`,
);
console.log(
  `  server: frames sent late ${of((r) => r.control.server.framesLate)} alone, ${of((r) => r.hostile.server.framesLate)} ` +
    `while hostile; event loop p99 at worst ${of((r) => r.control.server.loopP99Ms)} ms alone, ` +
    `${of((r) => r.hostile.server.loopP99Ms)} ms while hostile`,
);
console.log(
  `  CPU while hostile: server ${of((r) => r.cores.server).toFixed(2)} cores, hostile clients ` +
    `${of((r) => r.cores.clients).toFixed(2)}; generator loop p99 ${of((r) => r.generatorLoopP99Ms).toFixed(1)} ms`,
);
console.log(
  `  server RSS: baseline ${of((r) => r.rss.baseline).toFixed(0)} MiB, peak ${of((r) => r.rss.peak).toFixed(0)}, ` +
    `after ${of((r) => r.rss.after).toFixed(0)}; V8 heap after a full GC: baseline ` +
    `${of((r) => r.heap.baseline).toFixed(1)} MiB, after ${of((r) => r.heap.after).toFixed(1)}`,
);
