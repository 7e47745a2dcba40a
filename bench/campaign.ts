/**
 * `switchboard campaign run` as a user runs it: the real CLI (bin/switchboard.js) as a child process against a
 * server started in-process (the harness of the integration tests, the example flows, the calls API on, dials
 * journaled in SQLite in a temporary file) that places calls through the local fake of Twilio's REST API
 * (test/fakes/twilio-api; every call answered by a human, who hangs up 200 ms later). A fresh server, fake and
 * journal each run (--store memory: dials journaled in memory instead).
 * - throughput: a CSV of --calls rows (number,name,date,time) run with the reminder flow at --rate 10/s,
 *   --concurrency 10, --retries 0 and --quiet-hours off. Call starts are the fake's `calls.create` requests,
 *   timed (performance.now()) as it handles them: counted per 1 s window from the first create, over the whole
 *   windows before the last one; their median and minimum, and the overall rate (n - 1) / (last - first). Also
 *   the CLI's exit code and summary, and the server's warnings and errors. A CLI that stops early (exit code 1)
 *   is reported with the calls it placed; its windows count what it did start.
 * - memory: a CSV of --rows rows (100,000) run with --quiet-hours 00:00-23:59 --timezone UTC, so every row is
 *   read, checked and skipped for quiet hours (a line each on the CLI's standard error, counted here) and no call
 *   is placed. The CLI's RSS (VmRSS of /proc/<pid>/status) is sampled every 100 ms: its peak, and the first
 *   sample after the CLI's first line on standard error (once started). A skipped row takes no turn of the
 *   start rate. It measures streaming the file, not dialing: 100,000 rows dialed at 100/s are not run.
 * Each part runs --runs times; the medians are printed last.
 * Usage: node --import tsx bench/campaign.ts [--part throughput|memory|all] [--runs 3] [--calls 300]
 *        [--rows 100000] [--store sqlite|memory]
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { openStore } from '../src/journal/open-store.ts';
import { cpuMs, rssMiB } from '../src/load/process-stats.ts';
import { memoryLogger } from '../src/observability/logger.ts';
import { testJournals } from '../test/fixtures/journals.ts';
import { FakeTwilioApiServer } from '../test/fakes/twilio-api/index.ts';
import { ToneTts } from '../test/fakes/tone-tts.ts';
import { startServer, type TestServer } from '../test/support/harness.ts';

const { values } = parseArgs({
  options: {
    part: { type: 'string', default: 'all' },
    runs: { type: 'string', default: '3' },
    calls: { type: 'string', default: '300' },
    rows: { type: 'string', default: '100000' },
    store: { type: 'string', default: 'sqlite' },
  },
});
const PART = values.part;
if (!['throughput', 'memory', 'all'].includes(PART)) throw new Error('--part is throughput, memory or all');
const RUNS = Number(values.runs);
const CALLS = Number(values.calls);
const ROWS = Number(values.rows);
const STORE = values.store;
if (STORE !== 'sqlite' && STORE !== 'memory') throw new Error('--store is sqlite or memory');
const RATE = '10/s';
const CONCURRENCY = '10';
const MEMORY_RATE = '100/s';
const SAMPLE_MS = 100;

const BIN = new URL('../bin/switchboard.js', import.meta.url).pathname;
const ACCOUNT = 'AC' + '8'.repeat(32);
const TOKEN = 'bench-campaign-token';
const API_KEY = 'bench-campaign-api-key-0123';

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN;
};

interface Stack {
  server: TestServer;
  twilio: FakeTwilioApiServer;
  /** When the fake handled each `calls.create`, on this process's performance.now() clock. */
  creates: number[];
  close(): Promise<void>;
}

/** The server's warnings and errors, counted by message and code, and the fake's webhooks it did not take. */
function problems(stack: Stack): string {
  const counts = new Map<string, number>();
  const count = (what: string): void => void counts.set(what, (counts.get(what) ?? 0) + 1);
  for (const r of stack.server.records) {
    if (r.level === 'warn' || r.level === 'error') count(`${r.msg} (${String(r.code)})`);
  }
  for (const w of stack.twilio.webhooks) {
    if (w.status === null || w.status >= 300) count(`${w.kind} webhook answered ${w.status}`);
  }
  return counts.size === 0 ? 'none' : [...counts].map(([what, n]) => `${n} x ${what}`).join('; ');
}

/** A server placing calls through a fresh fake, its dials journaled in SQLite under `dir` (or in memory). */
async function startStack(dir: string): Promise<Stack> {
  const url = STORE === 'sqlite' ? `sqlite:${join(dir, 'calls.db')}` : 'memory:';
  const store = await openStore(url, { logger: memoryLogger('warn').logger });
  const journals = await testJournals(store);
  const twilio = new FakeTwilioApiServer({ accountSid: ACCOUNT, authToken: TOKEN, hangupAfterMs: 200 });
  await twilio.start();
  const creates: number[] = [];
  // A predicate that never matches sees every event as it is emitted.
  twilio
    .waitFor(
      (e) => {
        if (e.type === 'request' && e.request.method === 'POST' && e.request.path.endsWith('/Calls.json')) {
          creates.push(performance.now());
        }
        return false;
      },
      2 ** 31 - 1,
    )
    .catch(() => {}); // rejected by close()
  const server = await startServer({
    authToken: TOKEN,
    tts: new ToneTts({ msPerChar: 1 }),
    journals,
    dialing: {
      apiKey: API_KEY,
      accountSid: ACCOUNT,
      authToken: TOKEN,
      apiUrl: twilio.url,
      callerId: '+15550009000',
    },
  });
  return {
    server,
    twilio,
    creates,
    close: async () => {
      await server.close();
      await twilio.close();
      await store.close();
    },
  };
}

/** Writes a campaign CSV of `rows` distinct numbers, streamed (100,000 rows is a few MB). */
async function writeCsv(path: string, rows: number, run: number): Promise<void> {
  const out = createWriteStream(path);
  const write = (text: string): Promise<void> =>
    out.write(text) ? Promise.resolve() : new Promise((resolve) => out.once('drain', () => resolve()));
  await write('number,name,date,time\n');
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    chunk += `+1555${run}${String(i).padStart(6, '0')},Ada,2026-12-09,15:30\n`;
    if (chunk.length > 64 * 1024) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
}

interface CliRun {
  code: number | null;
  stdout: string;
  stderrLines: number;
  /** Standard error lines reporting a row skipped for quiet hours. */
  quietLines: number;
  lastStderr: string[];
  /** performance.now() at spawn, at the first line on standard error, and at exit. */
  spawnedAt: number;
  firstStderrAt: number | null;
  exitedAt: number;
  /** RSS samples (MiB) and when they were taken. */
  samples: { at: number; rss: number }[];
  cpuMs: number | null;
}

/** Runs `switchboard campaign run ARGS` against `server`, sampling its RSS every SAMPLE_MS. */
async function runCli(server: string, args: string[]): Promise<CliRun> {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [BIN, 'campaign', 'run', ...args, '--server', server], {
    env: { ...process.env, API_KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  let stderrLines = 0;
  let quietLines = 0;
  let firstStderrAt: number | null = null;
  const lastStderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (text) => {
    firstStderrAt ??= performance.now();
    stderrLines += 1;
    if (/^line \d+: quiet hours/.test(text)) quietLines += 1;
    else {
      lastStderr.push(text);
      if (lastStderr.length > 5) lastStderr.shift();
    }
  });
  const samples: { at: number; rss: number }[] = [];
  let cpu: number | null = null;
  const sample = (): void => {
    try {
      const rss = rssMiB(pid);
      cpu = cpuMs(pid);
      if (rss > 0) samples.push({ at: performance.now(), rss });
    } catch {
      // It exited between two samples.
    }
  };
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  const exitedAt = performance.now();
  clearInterval(timer);
  // Let the last stderr lines be read.
  await new Promise((resolve) => setImmediate(resolve));
  return {
    code,
    stdout,
    stderrLines,
    quietLines,
    lastStderr,
    spawnedAt,
    firstStderrAt,
    exitedAt,
    samples,
    cpuMs: cpu,
  };
}

/** What the CLI printed last: its summary, and its last lines on standard error when it failed. */
function cliSummary(cli: CliRun): string {
  const out = cli.stdout.trimEnd();
  if (cli.code === 0) return out;
  return [out, ...cli.lastStderr.map((l) => `stderr: ${l}`)].filter((l) => l !== '').join('\n');
}

interface Throughput {
  creates: number;
  medianPerSecond: number;
  minPerSecond: number;
  windows: number;
  overallRate: number;
  spawnToFirstMs: number;
  code: number | null;
  summary: string;
  problems: string;
}

async function throughputRun(run: number): Promise<Throughput> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-bench-campaign-'));
  const stack = await startStack(dir);
  try {
    const file = join(dir, 'calls.csv');
    await writeCsv(file, CALLS, run);
    const cli = await runCli(stack.server.url, [
      file,
      '--flow',
      'reminder',
      '--rate',
      RATE,
      '--concurrency',
      CONCURRENCY,
      '--quiet-hours',
      'off',
      '--retries',
      '0',
    ]);
    const t = stack.creates;
    const first = t[0] ?? NaN;
    const last = t.at(-1) ?? NaN;
    // Whole 1 s windows from the first create; the window holding the last create is partial, so left out.
    const windows = t.length < 2 ? 0 : Math.max(1, Math.floor((last - first) / 1000));
    const counts = Array.from({ length: windows }, () => 0);
    for (const at of t) {
      const w = Math.floor((at - first) / 1000);
      if (w < windows) counts[w]! += 1;
    }
    return {
      creates: t.length,
      medianPerSecond: median(counts),
      minPerSecond: counts.length === 0 ? NaN : Math.min(...counts),
      windows,
      overallRate: (t.length - 1) / ((last - first) / 1000),
      spawnToFirstMs: first - cli.spawnedAt,
      code: cli.code,
      summary: cliSummary(cli),
      problems: problems(stack),
    };
  } finally {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  }
}

interface Memory {
  peakMiB: number;
  startedMiB: number;
  /** The RSS at a quarter, half and three quarters of the run, and the last sample: growing, or flat. */
  alongMiB: number[];
  elapsedS: number;
  rowsPerSecond: number;
  quietLines: number;
  stderrLines: number;
  creates: number;
  cpuS: number | null;
  code: number | null;
  summary: string;
  problems: string;
}

async function memoryRun(dir: string, file: string): Promise<Memory> {
  const stack = await startStack(dir);
  try {
    const cli = await runCli(stack.server.url, [
      file,
      '--flow',
      'reminder',
      '--rate',
      MEMORY_RATE,
      '--quiet-hours',
      '00:00-23:59',
      '--timezone',
      'UTC',
      '--retries',
      '0',
    ]);
    const firstLine = cli.firstStderrAt ?? cli.spawnedAt;
    const started = cli.samples.find((s) => s.at >= firstLine);
    return {
      peakMiB: Math.max(...cli.samples.map((s) => s.rss)),
      startedMiB: started?.rss ?? NaN,
      alongMiB: [0.25, 0.5, 0.75, 1].map(
        (f) => cli.samples[Math.min(cli.samples.length - 1, Math.floor(f * cli.samples.length))]?.rss ?? NaN,
      ),
      elapsedS: (cli.exitedAt - cli.spawnedAt) / 1000,
      rowsPerSecond: ROWS / ((cli.exitedAt - firstLine) / 1000),
      quietLines: cli.quietLines,
      stderrLines: cli.stderrLines,
      creates: stack.creates.length,
      cpuS: cli.cpuMs === null ? null : cli.cpuMs / 1000,
      code: cli.code,
      summary: cliSummary(cli),
      problems: problems(stack),
    };
  } finally {
    await stack.close();
    await rm(join(dir, 'calls.db'), { force: true });
    await rm(join(dir, 'calls.db-wal'), { force: true });
    await rm(join(dir, 'calls.db-shm'), { force: true });
  }
}

const indent = (text: string): string =>
  text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');

const throughput: Throughput[] = [];
const memory: Memory[] = [];

if (PART !== 'memory') {
  console.log(
    `campaign throughput: ${CALLS} rows, --rate ${RATE} --concurrency ${CONCURRENCY} --retries 0 --quiet-hours off, ` +
      `${RUNS} runs (calls answered, hung up 200 ms later; dials journaled ${STORE === 'sqlite' ? 'in SQLite' : 'in memory'})`,
  );
  for (let i = 1; i <= RUNS; i++) {
    const r = await throughputRun(i);
    throughput.push(r);
    console.log(
      `run ${i}: ${r.creates} calls placed; starts per 1 s window (${r.windows} whole windows): median ` +
        `${r.medianPerSecond}, min ${r.minPerSecond}; overall ${r.overallRate.toFixed(2)} starts/s; ` +
        `CLI spawn -> first create ${(r.spawnToFirstMs / 1000).toFixed(2)} s; CLI exit code ${r.code}`,
    );
    console.log(indent(r.summary));
    console.log(`    server warnings and errors, webhooks refused: ${r.problems}`);
  }
}

if (PART !== 'throughput') {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-bench-campaign-'));
  try {
    const file = join(dir, 'rows.csv');
    await writeCsv(file, ROWS, 9);
    console.log(
      `\ncampaign memory: ${ROWS} rows, --rate ${MEMORY_RATE} --quiet-hours 00:00-23:59 --timezone UTC, ` +
        `every row skipped for quiet hours (no call placed), RSS sampled every ${SAMPLE_MS} ms, ${RUNS} runs`,
    );
    for (let i = 1; i <= RUNS; i++) {
      const r = await memoryRun(dir, file);
      memory.push(r);
      console.log(
        `run ${i}: CLI RSS once started ${r.startedMiB.toFixed(1)} MiB, peak ${r.peakMiB.toFixed(1)} MiB ` +
          `(at 1/4, 1/2, 3/4 of the run and last: ${r.alongMiB.map((x) => x.toFixed(1)).join(', ')} MiB); ` +
          `${r.elapsedS.toFixed(1)} s (spawn to exit), ${r.rowsPerSecond.toFixed(1)} rows/s; ` +
          `${r.quietLines} rows reported skipped for quiet hours (${r.stderrLines} stderr lines); ` +
          `${r.creates} calls placed; CLI CPU ${r.cpuS?.toFixed(1) ?? '?'} s; exit code ${r.code}`,
      );
      console.log(indent(r.summary));
      console.log(`    server warnings and errors, webhooks refused: ${r.problems}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

console.log(`\nmedians of ${RUNS} runs`);
if (throughput.length > 0) {
  const m = (f: (r: Throughput) => number): number => median(throughput.map(f));
  console.log(
    `campaign throughput at ${RATE}: median ${m((r) => r.medianPerSecond).toFixed(1)} starts/s ` +
      `(min ${Math.min(...throughput.map((r) => r.minPerSecond))}, ${throughput.length} runs; calls placed ` +
      `${throughput.map((r) => r.creates).join(', ')} of ${CALLS})`,
  );
  console.log(
    `campaign overall start rate at ${RATE}: median ${m((r) => r.overallRate).toFixed(2)} starts/s ` +
      `((n - 1) / (last create - first create))`,
  );
  console.log(`campaign CLI exit codes: ${throughput.map((r) => r.code).join(', ')}`);
}
if (memory.length > 0) {
  const m = (f: (r: Memory) => number): number => median(memory.map(f));
  console.log(
    `campaign CLI RSS over ${ROWS} rows: median peak ${m((r) => r.peakMiB).toFixed(1)} MiB, ` +
      `after startup ${m((r) => r.startedMiB).toFixed(1)} MiB (${memory.length} runs)`,
  );
  console.log(
    `campaign streaming ${ROWS} rows at --rate ${MEMORY_RATE}: median ${m((r) => r.elapsedS).toFixed(1)} s, ` +
      `${m((r) => r.rowsPerSecond).toFixed(1)} rows/s`,
  );
  console.log(
    `(the memory part measures streaming the file: rows read, checked and skipped; no call is dialed. ` +
      `${ROWS} rows dialed at 100/s would take ${Math.round(ROWS / 100 / 60)} min a run and are not measured.)`,
  );
}
