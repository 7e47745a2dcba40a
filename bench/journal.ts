/**
 * Journal append latency: the time a call waits for a record to be durable before its machine sees the event.
 * 20 calls take turns appending ~300-byte records, one append at a time, to SQLite (a temporary file, WAL,
 * synchronous=FULL) and PostgreSQL (a fresh schema on 127.0.0.1:5432, dropped after; skipped if unreachable);
 * once with one record per append and once with three. For SQLite also: the same with the 20 calls appending at
 * once (one append in flight per call, as 20 live calls would), and how long the main thread's event loop is held
 * up during the one-record run (perf_hooks.monitorEventLoopDelay, a 1 ms timer: an idle loop reads about 1 ms),
 * which is what the audio path of every call waits through.
 * With JOURNAL_KEY set, records are sealed (personal fields encrypted with AES-256-GCM) on the main thread as
 * a server seals them: run it with and without to see what encryption costs an append.
 * Usage: [JOURNAL_KEY=<64 hex>] node --import tsx bench/journal.ts [appends=2000]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SwitchboardError } from '../src/errors.ts';
import { keyringFromEnv } from '../src/journal/keyring.ts';
import { openStore } from '../src/journal/open-store.ts';
import { encodeRecord } from '../src/journal/records.ts';
import type { JournalStore, Lease, StoredRecord } from '../src/journal/store.ts';
import { memoryLogger } from '../src/observability/logger.ts';
import { dropSchema } from '../test/support/postgres.ts';
import { percentile } from './server-process.ts';

const appends = Number(process.argv[2] ?? 2000);
const CALLS = 20;
const PG_BASE = process.env.BENCH_POSTGRES_URL ?? 'postgres://127.0.0.1:5432/test';

const TEXT = 'I would like a large pizza with mushrooms and olives';

/** An `in` record of about 300 bytes once encoded. */
function record(callId: string, seq: number): StoredRecord {
  const at = Date.now();
  const base = { v: 1, callId, seq, at, kind: 'in' as const };
  const bare = encodeRecord({ ...base, event: { type: 'speech', text: TEXT, pad: '' } }).length;
  const event = { type: 'speech', text: TEXT, pad: '.'.repeat(Math.max(0, 300 - bare)) };
  return { seq, kind: 'in', at, line: encodeRecord({ ...base, event }) };
}

/** Of the last measure(): how long each append() call held the main thread before returning its promise. */
const held: number[] = [];

/** Append latencies in ms; `parallel`: each round sends one append per call at once and waits for them all. */
async function measure(
  store: JournalStore,
  batch: number,
  tag: string,
  count = appends,
  parallel = false,
): Promise<number[]> {
  const leases: Lease[] = [];
  const next: number[] = [];
  for (let c = 0; c < CALLS; c++) {
    leases.push(await store.acquire(`CA${tag}${c}`, 'bench'));
    next.push(1);
  }
  const append = async (c: number): Promise<number> => {
    const lease = leases[c]!;
    const records = Array.from({ length: batch }, (_, k) => record(lease.callId, next[c]! + k));
    next[c]! += batch;
    const started = performance.now();
    const appended = store.append(lease, records);
    held.push(performance.now() - started);
    await appended;
    return performance.now() - started;
  };
  const times: number[] = [];
  held.length = 0;
  if (parallel) {
    for (let i = 0; i < count; i += CALLS)
      times.push(
        ...(await Promise.all(Array.from({ length: Math.min(CALLS, count - i) }, (_, c) => append(c)))),
      );
    return times;
  }
  for (let i = 0; i < count; i++) {
    times.push(await append(i % CALLS));
    // Let the loop turn between appends, as it does between a server's events, so the delay monitor's timer
    // can fire: a store that blocks shows as delay, a store that awaits does not. Not counted in the times.
    await new Promise(setImmediate);
  }
  return times;
}

function figures(times: number[], batch: number, label = ''): string {
  const p50 = percentile(times, 50).toFixed(2);
  const p99 = percentile(times, 99).toFixed(2);
  return `${batch} record${batch > 1 ? 's' : ''}/append${label}: p50 ${p50} ms, p99 ${p99} ms`;
}

async function run(name: string, url: string): Promise<void> {
  const store = await openStore(url, { logger: memoryLogger('warn').logger, keyring });
  try {
    // Warm up the connection, statement caches and file before measuring.
    await measure(store, 1, 'warm-', 200);
    for (const batch of [1, 3]) {
      const delay = monitorEventLoopDelay({ resolution: 1 });
      if (batch === 1) delay.enable();
      const times = await measure(store, batch, `b${batch}-`);
      delay.disable();
      console.log(`${name.padEnd(10)} ${figures(times, batch)}`);
      if (batch === 1 && store.kind === 'sqlite') {
        const ms = (ns: number): string => (ns / 1e6).toFixed(2);
        console.log(
          `${name.padEnd(10)} event-loop delay during it: p50 ${ms(delay.percentile(50))} ms, ` +
            `p99 ${ms(delay.percentile(99))} ms, max ${ms(delay.max)} ms`,
        );
        const p = (q: number): string => percentile(held, q).toFixed(2);
        console.log(
          `${name.padEnd(10)} main thread held by each append() call: p50 ${p(50)} ms, p99 ${p(99)} ms, ` +
            `max ${Math.max(...held).toFixed(2)} ms`,
        );
      }
    }
    if (store.kind === 'sqlite') {
      for (const batch of [1, 3]) {
        const times = await measure(store, batch, `p${batch}-`, appends, true);
        console.log(`${name.padEnd(10)} ${figures(times, batch, `, ${CALLS} in flight`)}`);
      }
    }
  } finally {
    await store.close();
  }
}

const keyring = keyringFromEnv(process.env);
console.log(
  `journal append latency: ${appends} appends over ${CALLS} calls, ~${record('CA0', 1).line.length} B/record, ` +
    (keyring.current
      ? `personal fields sealed under key ${keyring.current.id}`
      : 'in clear (JOURNAL_KEY unset)'),
);

const dir = mkdtempSync(join(tmpdir(), 'sb-bench-journal-'));
try {
  await run('sqlite', `sqlite:${join(dir, 'journal.db')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const schema = `sb_bench_${process.pid}`;
const pgUrl = `${PG_BASE}${PG_BASE.includes('?') ? '&' : '?'}schema=${schema}`;
try {
  await run('postgres', pgUrl);
} catch (err) {
  if (!(err instanceof SwitchboardError && err.code === 'STORE_UNAVAILABLE')) throw err;
  console.log(`postgres   skipped: ${err.message}`);
} finally {
  await dropSchema(schema, PG_BASE);
}
