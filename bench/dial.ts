/**
 * Placing a call through the calls API: from a client sending `POST /api/calls` to Twilio's REST API receiving
 * the `calls.create` that it leads to, and the POST's whole round trip. A server started in-process (the harness
 * of the integration tests, the example flows, the calls API on) places calls through the local fake of Twilio's
 * REST API (test/fakes/twilio-api) with the real twilio client; dials are journaled in SQLite in a temporary file
 * (`--store memory` for the in-memory store). Both ends are timed with performance.now() in this one process: the
 * client's just before fetch() is called, and the fake's when it emits the request's 'request' event (after it
 * read and routed the create, before it answers), taken synchronously in an event-log predicate. Each call is
 * answered by a human and hung up 200 ms later, so the server also takes each call's status, voice and detection
 * callbacks while later dials run, as it would. Each run dials --calls distinct numbers one after another, then
 * as many with --parallel requests in flight, every dial with a fresh idempotency key (20 unmeasured dials warm up
 * first), on a fresh server, fake and journal; p50, p99 and max per run, then the medians of the runs' p50s and
 * p99s. Usage: node --import tsx bench/dial.ts [--calls 300] [--parallel 10] [--runs 3] [--store sqlite|memory]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CallJournals } from '../src/call/journals.ts';
import { openStore } from '../src/journal/open-store.ts';
import type { JournalStore } from '../src/journal/store.ts';
import { memoryLogger } from '../src/observability/logger.ts';
import { testJournals } from '../test/fixtures/journals.ts';
import { FakeTwilioApiServer } from '../test/fakes/twilio-api/index.ts';
import { ToneTts } from '../test/fakes/tone-tts.ts';
import { startServer } from '../test/support/harness.ts';
import { percentile } from './server-process.ts';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '300' },
    parallel: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    store: { type: 'string', default: 'sqlite' },
  },
});
const CALLS = Number(values.calls);
const PARALLEL = Number(values.parallel);
const RUNS = Number(values.runs);
const STORE = values.store;
if (STORE !== 'sqlite' && STORE !== 'memory') throw new Error('--store is sqlite or memory');
const WARM_UP = 20;

const ACCOUNT = 'AC' + '7'.repeat(32);
const TOKEN = 'bench-dial-token';
const API_KEY = 'bench-dial-api-key-0123456789';
const VARS = { name: 'Ada', date: '2026-12-09', time: '15:30' };

/** One dial's two figures, in ms. */
interface Timing {
  toRest: number;
  roundTrip: number;
}

interface Stats {
  p50: number;
  p99: number;
  max: number;
}

const stats = (xs: number[]): Stats => ({
  p50: percentile(xs, 50),
  p99: percentile(xs, 99),
  max: Math.max(...xs),
});

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN;
};

interface RunFigures {
  sequential: { toRest: Stats; roundTrip: Stats };
  parallel: { toRest: Stats; roundTrip: Stats };
  /** Dials not answered 201, by status, error code and phase; left out of the figures. */
  refused: Map<string, number>;
  /** The server's warnings and errors, by message and code, and the fake's webhooks it did not take. */
  problems: Map<string, number>;
}

const tally = (map: Map<string, number>, what: string): void => {
  map.set(what, (map.get(what) ?? 0) + 1);
};
const listed = (map: Map<string, number>): string =>
  map.size === 0 ? 'none' : [...map].map(([what, n]) => `${n} x ${what}`).join('; ');

async function run(index: number): Promise<RunFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-bench-dial-'));
  let store: JournalStore | null = null;
  let journals: CallJournals | undefined;
  if (STORE === 'sqlite') {
    store = await openStore(`sqlite:${join(dir, 'calls.db')}`, { logger: memoryLogger('warn').logger });
    journals = await testJournals(store);
  }
  const twilio = new FakeTwilioApiServer({ accountSid: ACCOUNT, authToken: TOKEN, hangupAfterMs: 200 });
  await twilio.start();
  // When the fake handled each number's create: a predicate that never matches sees every event as it is emitted.
  const createdAt = new Map<string, number>();
  twilio
    .waitFor(
      (e) => {
        if (e.type === 'request' && e.request.method === 'POST' && e.request.path.endsWith('/Calls.json')) {
          const to = e.request.form.get('To');
          if (to !== null && !createdAt.has(to)) createdAt.set(to, performance.now());
        }
        return false;
      },
      2 ** 31 - 1,
    )
    .catch(() => {}); // rejected by close()
  const server = await startServer({
    authToken: TOKEN,
    tts: new ToneTts({ msPerChar: 1 }),
    ...(journals ? { journals } : {}),
    dialing: {
      apiKey: API_KEY,
      accountSid: ACCOUNT,
      authToken: TOKEN,
      apiUrl: twilio.url,
      callerId: '+15550009000',
    },
  });

  const refused = new Map<string, number>();
  let phase = 'warm-up';
  const dial = async (to: string, key: string): Promise<Timing | null> => {
    const sent = performance.now();
    const res = await fetch(`${server.url}/api/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ to, flow: 'reminder', vars: VARS, idempotencyKey: key }),
    });
    const body = (await res.json()) as Record<string, unknown>;
    const answered = performance.now();
    if (res.status !== 201) {
      tally(refused, `${res.status} ${String(body.error)} (${phase})`);
      return null;
    }
    const created = createdAt.get(to);
    if (created === undefined) throw new Error(`dial ${to}: answered 201 but the fake saw no create`);
    return { toRest: created - sent, roundTrip: answered - sent };
  };
  // Distinct numbers and keys in every run and phase: +1555 <run> <phase> <5 digits>.
  const number = (phase: number, i: number): string => `+1555${index}${phase}${String(i).padStart(5, '0')}`;
  const key = (phase: number, i: number): string => `bench-${index}-${phase}-${i}`;

  try {
    for (let i = 0; i < WARM_UP; i++) await dial(number(0, i), key(0, i));
    phase = 'one at a time';
    const sequential: Timing[] = [];
    for (let i = 0; i < CALLS; i++) {
      const t = await dial(number(1, i), key(1, i));
      if (t) sequential.push(t);
    }
    phase = `${PARALLEL} in parallel`;
    const parallel: Timing[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < CALLS) {
          const i = next++;
          const t = await dial(number(2, i), key(2, i));
          if (t) parallel.push(t);
        }
      }),
    );
    // Let the last calls' callbacks and hangups reach the server before its log is read.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const problems = new Map<string, number>();
    for (const r of server.records) {
      if (r.level === 'warn' || r.level === 'error') tally(problems, `${r.msg} (${String(r.code)})`);
    }
    for (const w of twilio.webhooks) {
      if (w.status === null || w.status >= 300) tally(problems, `${w.kind} webhook answered ${w.status}`);
    }
    const of = (ts: Timing[]) => ({
      toRest: stats(ts.map((t) => t.toRest)),
      roundTrip: stats(ts.map((t) => t.roundTrip)),
    });
    return { sequential: of(sequential), parallel: of(parallel), refused, problems };
  } finally {
    await server.close();
    await twilio.close();
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const ms = (x: number): string => `${x.toFixed(2)} ms`;
const line = (s: Stats): string => `p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, max ${ms(s.max)}`;

console.log(
  `dial: ${CALLS} distinct numbers one at a time, then ${PARALLEL} in parallel, per run; ${RUNS} runs; ` +
    `journal: ${STORE === 'sqlite' ? 'SQLite (temporary file)' : 'in memory'}; Twilio: the local fake, same process`,
);
const runs: RunFigures[] = [];
for (let i = 1; i <= RUNS; i++) {
  const r = await run(i);
  runs.push(r);
  console.log(`run ${i}`);
  for (const mode of ['sequential', 'parallel'] as const) {
    const label = mode === 'sequential' ? 'one at a time' : `${PARALLEL} in parallel`;
    console.log(`  ${label}: POST sent -> calls.create at the fake: ${line(r[mode].toRest)}`);
    console.log(`  ${label}: POST round trip: ${line(r[mode].roundTrip)}`);
  }
  console.log(`  dials not answered 201 (left out): ${listed(r.refused)}`);
  console.log(`  server warnings and errors, webhooks refused: ${listed(r.problems)}`);
}

console.log(`\nmedian of ${RUNS} runs (of each run's p50 and p99)`);
for (const mode of ['sequential', 'parallel'] as const) {
  const label = mode === 'sequential' ? 'one at a time' : `${PARALLEL} in parallel`;
  for (const figure of ['toRest', 'roundTrip'] as const) {
    const name = figure === 'toRest' ? 'dial request -> REST request' : 'dial POST round trip';
    const p50 = median(runs.map((r) => r[mode][figure].p50));
    const p99 = median(runs.map((r) => r[mode][figure].p99));
    const max = Math.max(...runs.map((r) => r[mode][figure].max));
    console.log(`${name}, ${label}: median p50 ${ms(p50)}, p99 ${ms(p99)} (max of the runs ${ms(max)})`);
  }
}
