/**
 * Chaos: two real `switchboard serve` processes share one journal store behind a TCP balancer while simulated
 * callers order pizzas by keypad; one instance at a time is killed with SIGKILL (never the last one up) and
 * restarted, and the calls it held resume on the other through `POST /twilio/connect-ended`. It prints figures,
 * not pass/fail: calls completed and resumed, committed turns lost (from the journals and from the callers'
 * side), duplicate orders (from the orders service's idempotency keys), time from a kill to the agent's next
 * audio, and journal append latency for each store.
 *
 * Usage: npm run bench:chaos -- [--calls 50] [--kills 20] [--store postgres|sqlite]
 */
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readJournal } from '../src/call/call-journal.ts';
import { openStore } from '../src/journal/open-store.ts';
import { encodeRecord, type JournalRecord } from '../src/journal/records.ts';
import type { StoredRecord } from '../src/journal/store.ts';
import { memoryLogger } from '../src/observability/logger.ts';
import {
  placeCall,
  type CallerInput,
  type SimulatedCallResult,
  type TimelineEvent,
} from '../src/simulator/caller.ts';
import { startOrdersService } from '../test/fakes/orders-service.ts';
import { TcpBalancer } from '../test/support/balancer.ts';
import { dropSchema, postgresReachable, TEST_POSTGRES_URL } from '../test/support/postgres.ts';
import { serve, type Served } from '../test/support/serve-process.ts';
import { percentile } from './server-process.ts';

const USAGE = `Usage: npm run bench:chaos -- [options]
  --calls N                  simulated calls, started staggered over the kill period (default 50)
  --kills M                  SIGKILLs of a random instance, each restarted before the next (default 20)
  --store postgres|sqlite    the journal store both instances share (default postgres on 127.0.0.1:5432)
  --logs DIR                 also write each server process's output to DIR/<slot>-<pid>.log
  --help                     this text`;

const { values: args } = parseArgs({
  options: {
    calls: { type: 'string', default: '50' },
    kills: { type: 'string', default: '20' },
    store: { type: 'string', default: 'postgres' },
    logs: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const CALLS = Number(args.calls);
const KILLS = Number(args.kills);
const STORE = args.store;
if (!Number.isInteger(CALLS) || CALLS < 1 || !Number.isInteger(KILLS) || KILLS < 0) {
  console.error(`--calls must be a positive integer and --kills a non-negative one\n${USAGE}`);
  process.exit(2);
}
if (STORE !== 'postgres' && STORE !== 'sqlite') {
  console.error(`--store must be postgres or sqlite\n${USAGE}`);
  process.exit(2);
}

/** The whole run, calls and kills included; past it the children are killed and what was gathered is printed. */
const HARD_TIMEOUT_MS = 10 * 60_000;
const PG_BASE = TEST_POSTGRES_URL;
const SCHEMA = `sb_chaos_${process.pid}`;
const PG_URL = `${PG_BASE}?schema=${SCHEMA}`;
const tmp = mkdtempSync(join(tmpdir(), 'sb-chaos-'));
const STORE_URL = STORE === 'postgres' ? PG_URL : `sqlite:${join(tmp, 'calls.db')}`;

/** The pizza flow answered by state, so a question asked again after a crash gets its answer again. */
const ANSWERS: Record<string, string> = { greet: '1', size: '3', count: '4#', confirm: '1' };
const answerFor = (state: string): CallerInput | undefined =>
  ANSWERS[state] === undefined ? undefined : { kind: 'dtmf', keys: ANSWERS[state] };
/** The pizza flow's states in the order a keypad order goes through them: "later" means further along. */
const ORDER = ['greet', 'size', 'count', 'confirm', 'place', 'deal', 'discount', 'placed'];
const stateOfMark = (mark: string): string => mark.slice(0, Math.max(0, mark.lastIndexOf('.')));

const t0 = performance.now();
const since = (at: number): string => `${((at - t0) / 1000).toFixed(1)} s`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

// ---- stopping: a hard timeout or Ctrl-C ends calls and kills, and the figures gathered so far are printed ----

const calls = new AbortController();
// Set from callbacks, so the compiler must not narrow it to null.
let stopReason = null as string | null;
let onStop: () => void = () => {};
const stopped = new Promise<void>((resolve) => (onStop = resolve));
function stop(reason: string): void {
  if (stopReason !== null) return;
  stopReason = reason;
  console.log(`\n!! stopping: ${reason}; printing what was gathered`);
  calls.abort();
  onStop();
}

/** Every server child ever started, so none outlives the bench whatever way it ends. */
const children = new Set<Served['child']>();
const killAllChildren = (): void => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
};
process.on('exit', killAllChildren);
process.on('SIGINT', () => {
  if (stopReason !== null) {
    killAllChildren();
    process.exit(130);
  }
  stop('interrupted (Ctrl-C again to quit at once)');
});
const hardTimeout = setTimeout(
  () => stop(`hard timeout of ${HARD_TIMEOUT_MS / 60_000} min`),
  HARD_TIMEOUT_MS,
);
hardTimeout.unref();
// If even the wind-down hangs, leave anyway: the 'exit' handler kills the children.
setTimeout(() => {
  console.log('!! the wind-down did not finish in time; exiting');
  process.exit(1);
}, HARD_TIMEOUT_MS + 120_000).unref();

// ---- the callers' HTTP requests ----

/**
 * fetch keeps connections to the balancer alive and reuses them across calls, and the TCP balancer pins each
 * connection to the instance it first reached: after a kill, a request sent on a kept-alive connection that was
 * piped to the dead instance fails ("other side closed") although the survivor would have answered it. Twilio
 * and an HTTP-aware proxy have no such pinned connections, so such a request is sent once more, on a fresh
 * connection, and counted and printed.
 */
const fetchRetries: string[] = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  try {
    return await realFetch(input, init);
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (init?.signal?.aborted || !(err instanceof TypeError) || cause === undefined) throw err;
    const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
    fetchRetries.push(`at ${since(performance.now())} ${path}: ${cause.code ?? ''} ${cause.message ?? ''}`);
    return realFetch(input, init);
  }
};

// ---- instances ----

/** One running `switchboard serve`, with the calls its own logs say it holds. */
interface Instance {
  slot: 'A' | 'B';
  served: Served;
  port: number;
  /** Calls it logged 'call started' / 'call resumed from its journal' for and not 'call ended' since. */
  live: Set<string>;
  /** Resolves when the process has exited and its output is all read. */
  closed: Promise<void>;
}

async function startInstance(slot: 'A' | 'B', env: Record<string, string>): Promise<Instance> {
  const served = await serve(env);
  children.add(served.child);
  const live = new Set<string>();
  // Our own line reader: served.logs() parses everything each time and would throw on a line cut by SIGKILL.
  let partial = '';
  const onData = (chunk: Buffer): void => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (typeof rec.callId !== 'string') continue;
      if (rec.msg === 'call started' || rec.msg === 'call resumed from its journal') live.add(rec.callId);
      else if (rec.msg === 'call ended') live.delete(rec.callId);
      if (rec.level === 'error' || rec.level === 'fatal') serverErrors.push({ slot, ...rec });
      if (rec.msg === 'first agent audio sent' && typeof rec.time === 'string') {
        const list = firstAudioSent.get(rec.callId) ?? [];
        list.push(Date.parse(rec.time));
        firstAudioSent.set(rec.callId, list);
      }
    }
  };
  served.child.stdout.on('data', onData);
  served.child.stderr.on('data', onData);
  if (args.logs !== undefined) {
    mkdirSync(args.logs, { recursive: true });
    const file = createWriteStream(join(args.logs, `${slot}-${served.child.pid}.log`));
    file.write(served.banner);
    served.child.stdout.pipe(file);
  }
  const closed = new Promise<void>((resolve) => served.child.once('close', () => resolve()));
  return { slot, served, port: Number(new URL(served.url).port), live, closed };
}

const serverErrors: Record<string, unknown>[] = [];
/** Per call, when a server logged each stream's first agent audio (ms since the epoch, the server's clock). */
const firstAudioSent = new Map<string, number[]>();

// ---- figures gathered as the run goes ----

interface CallRun {
  i: number;
  /** performance.now() just before placeCall: the caller's timeline `t` counts from about here. */
  startAt: number;
  timeline: TimelineEvent[];
  result: SimulatedCallResult | null;
  error: string | null;
}

interface Kill {
  n: number;
  slot: string;
  pid: number;
  at: number;
  /** Date.now() at the kill, to compare with the servers' log times. */
  wall: number;
  /** Calls the killed instance held, by its own logs. */
  held: string[];
  restartMs: number | null;
}

const runs: CallRun[] = [];
const kills: Kill[] = [];
const restartFailures: string[] = [];

// ---- the run ----

if (STORE === 'postgres' && !(await postgresReachable())) {
  console.log(`PostgreSQL is not reachable at ${PG_BASE}; run with --store sqlite, or start it`);
  rmSync(tmp, { recursive: true, force: true });
  process.exit(1);
}

const orders = await startOrdersService();
const balancer = new TcpBalancer([]);
const publicUrl = `http://127.0.0.1:${await balancer.listen()}`;
const env = {
  STORE_URL,
  PUBLIC_URL: publicUrl,
  STT: 'off',
  NLU: 'off',
  ORDERS_URL: orders.url,
  PIZZA_STAFF_LINE: '+15555550100',
  LOG_LEVEL: 'info',
};

const instances: (Instance | null)[] = [null, null];
const setTargets = (): void =>
  balancer.setTargets(instances.flatMap((s) => (s ? [{ host: '127.0.0.1', port: s.port }] : [])));

const startedServing = performance.now();
// One after the other: two first starts at once would race to create the store's schema.
instances[0] = await startInstance('A', env);
const startupMs = performance.now() - startedServing;
instances[1] = await startInstance('B', env);
setTargets();

// Calls start evenly over the time the kills are expected to take, so some are live at every kill.
const killPeriodMs = Math.max(KILLS * (2750 + startupMs + 500), 5000);
const gapMs = killPeriodMs / CALLS;
console.log(
  `chaos: ${CALLS} pizza calls, one every ${(gapMs / 1000).toFixed(2)} s; ${KILLS} kills over ~` +
    `${(killPeriodMs / 1000).toFixed(0)} s; store ${STORE} (${STORE === 'postgres' ? PG_URL : STORE_URL}); ` +
    `${availableParallelism()} CPUs; an instance starts in ${startupMs.toFixed(0)} ms`,
);

async function oneCall(i: number): Promise<void> {
  const run: CallRun = { i, startAt: performance.now(), timeline: [], result: null, error: null };
  runs.push(run);
  try {
    run.result = await placeCall({
      url: publicUrl,
      flow: 'pizza',
      answerFor,
      thinkMs: 200,
      idleHangupMs: 4000,
      maxDurationMs: 150_000,
      signal: calls.signal,
      onEvent: (event) => run.timeline.push(event),
    });
  } catch (err) {
    run.error = errText(err);
  }
}

async function startCalls(): Promise<void> {
  const placed: Promise<void>[] = [];
  for (let i = 0; i < CALLS && stopReason === null; i++) {
    placed.push(oneCall(i));
    if (i < CALLS - 1) await Promise.race([sleep(gapMs), stopped]);
  }
  await Promise.all(placed);
}

async function killLoop(): Promise<void> {
  for (let n = 1; n <= KILLS && stopReason === null; n++) {
    await Promise.race([sleep(1500 + Math.random() * 2500), stopped]);
    // Both are up here (each restart is awaited), so killing either leaves one to take its calls.
    if (stopReason !== null || instances.some((s) => s === null)) break;
    const idx = Math.random() < 0.5 ? 0 : 1;
    const victim = instances[idx]!;
    const at = performance.now();
    const wall = Date.now();
    victim.served.child.kill('SIGKILL');
    // As a real balancer's health check would: new connections go to the survivor at once.
    instances[idx] = null;
    setTargets();
    await victim.closed;
    const kill: Kill = {
      n,
      slot: victim.slot,
      pid: victim.served.child.pid ?? 0,
      at,
      wall,
      held: [...victim.live],
      restartMs: null,
    };
    kills.push(kill);
    const restarting = performance.now();
    try {
      instances[idx] = await startInstance(victim.slot, env);
      kill.restartMs = performance.now() - restarting;
      setTargets();
    } catch (err) {
      restartFailures.push(`kill ${n}: ${victim.slot} did not restart: ${errText(err)}`);
      console.log(`kill ${n}/${KILLS}: ${victim.slot} did not restart (${errText(err)}); no more kills`);
      return;
    }
    console.log(
      `kill ${n}/${KILLS} at ${since(at)}: ${victim.slot} (pid ${kill.pid}) held ${kill.held.length} ` +
        `call${kill.held.length === 1 ? '' : 's'}; back up in ${(kill.restartMs / 1000).toFixed(1)} s; ` +
        `${runs.filter((r) => r.result === null && r.error === null).length} calls live`,
    );
  }
}

const killing = killLoop();
await Promise.race([Promise.all([startCalls(), killing]), stopped]);
if (stopReason !== null) {
  // Aborted calls hang up; give them a moment to hand their results back, no more.
  await Promise.race([Promise.all(runs.map((r) => waitForRun(r))), sleep(5000)]);
  // A restart under way is let finish (serve() gives up after 20 s) so its child is known and killed below.
  await Promise.race([killing, sleep(25_000)]);
}
const runMs = performance.now() - t0;
clearTimeout(hardTimeout);

async function waitForRun(run: CallRun): Promise<void> {
  while (run.result === null && run.error === null) await sleep(100);
}

// The instances are done; stop them before reading the journals so nothing writes meanwhile.
for (const s of instances) s?.served.child.kill('SIGTERM');
await Promise.race([Promise.all(instances.flatMap((s) => (s ? [s.closed] : []))), sleep(10_000)]);
killAllChildren();
await balancer.close();

// ---- figures ----

const bySid = new Map<string, CallRun>();
for (const r of runs) if (r.result) bySid.set(r.result.callSid, r);

const heardPlaced = (r: CallRun): boolean =>
  r.timeline.some((e) => e.kind === 'agent' && e.mark.startsWith('placed.'));
const streamsOf = (r: CallRun): number =>
  r.timeline.filter((e) => e.kind === 'stream' && e.event === 'open').length;
const completed = runs.filter((r) => r.result?.endedBy === 'agent' && heardPlaced(r));
const resumed = runs.filter((r) => streamsOf(r) >= 2);

/** Why a call did not complete, in a few words. */
function whyFailed(r: CallRun): string {
  if (r.error !== null) return `exception: ${r.error}`;
  if (r.result === null) return 'did not finish (still running when the run stopped)';
  const res = r.result;
  const marks = res.marks;
  const parts = [
    `ended by ${res.endedBy}`,
    `close code ${res.closeCode ?? '-'}`,
    `${streamsOf(r)} stream(s)`,
    `last prompt ${marks.at(-1) ?? '(none)'}`,
  ];
  if (res.actionError !== null) parts.unshift(`action URL failed: ${res.actionError}`);
  return parts.join(', ');
}

// Journals: what each call committed, and whether a committed answer was asked for again.
interface JournalCheck {
  lost: string[];
  callerMissing: string[];
  error: string | null;
}
const journalChecks = new Map<CallRun, JournalCheck>();
try {
  const reader = await withTimeout(openStore(STORE_URL, { logger: memoryLogger('warn').logger }), 15_000);
  try {
    for (const r of runs) {
      if (!r.result) continue;
      try {
        const records = await withTimeout(readJournal(reader, r.result.callSid), 15_000);
        journalChecks.set(r, checkJournal(r, records));
      } catch (err) {
        journalChecks.set(r, { lost: [], callerMissing: [], error: errText(err) });
      }
    }
  } finally {
    await reader.close();
  }
} catch (err) {
  console.log(`!! could not read the journals: ${errText(err)}`);
}

function checkJournal(r: CallRun, records: JournalRecord[]): JournalCheck {
  // Journal side: a dtmf answer whose state record shows the machine left the state, yet that state's
  // question was asked again later.
  const lost: string[] = [];
  let state: string | null = null;
  const dtmf = new Map<number, { digit: string; before: string | null }>();
  const digitsIn = new Map<string, string>();
  for (const [idx, rec] of records.entries()) {
    if (rec.kind === 'in' && rec.event.type === 'dtmf') {
      const digit = String(rec.event.digit);
      dtmf.set(rec.seq, { digit, before: state });
      if (state !== null) digitsIn.set(state, (digitsIn.get(state) ?? '') + digit);
    } else if (rec.kind === 'state') {
      const d = dtmf.get(rec.in);
      if (d && d.before !== null && rec.state !== d.before) {
        const prefix = `${d.before}.`;
        const askedAgain = records
          .slice(idx + 1)
          .find(
            (x) =>
              x.kind === 'eff' &&
              x.effect.type === 'say' &&
              typeof x.effect.mark === 'string' &&
              x.effect.mark.startsWith(prefix),
          );
        if (askedAgain?.kind === 'eff')
          lost.push(
            `'${d.digit}' in ${d.before} (seq ${rec.in}) asked again as ${String(askedAgain.effect.mark)}`,
          );
      }
      state = rec.state;
    }
  }
  // Caller side: an input whose answer the agent acknowledged (its next prompt was for a later state) must be
  // in the journal, pressed in that state.
  const callerMissing: string[] = [];
  let asked = '';
  for (const [idx, e] of r.timeline.entries()) {
    if (e.kind === 'agent' && e.mark !== '') asked = stateOfMark(e.mark);
    if (e.kind !== 'dtmf') continue;
    const next = r.timeline.slice(idx + 1).find((x) => x.kind === 'agent' && x.mark !== '');
    if (next?.kind !== 'agent') continue;
    if (ORDER.indexOf(stateOfMark(next.mark)) <= ORDER.indexOf(asked)) continue;
    if (!(digitsIn.get(asked) ?? '').includes(e.keys))
      callerMissing.push(`'${e.keys}' in ${asked} at ${(e.t / 1000).toFixed(1)} s, answered by ${next.mark}`);
  }
  return { lost, callerMissing, error: null };
}

// Orders: a key applied twice is a deduplicated repeat; two distinct keys for one call is two orders.
const keysByCall = new Map<string, Set<string>>();
for (const key of orders.applied) {
  const callId = key.slice(0, key.indexOf(':'));
  keysByCall.set(callId, (keysByCall.get(callId) ?? new Set()).add(key));
}
const doubleOrders = [...keysByCall].filter(([, keys]) => keys.size > 1);

// Kill to the agent's next audio, for each call the killed instance held. The caller's timeline shows a stretch
// of agent audio only once its mark is echoed (or it is cleared), so a resumed stream cut by a later kill before
// its first prompt ended shows none: such a pair is not measured from the caller's side, only from the servers'
// logs ('first agent audio sent', on the servers' clock, which is this machine's).
const recoveryMs: number[] = [];
const serverRecoveryMs: number[] = [];
const notRecovered: string[] = [];
let cutBeforePrompt = 0;
const recoveryDetail: { took: number; text: string }[] = [];
for (const k of kills) {
  for (const callId of k.held) {
    const sent = (firstAudioSent.get(callId) ?? []).find((t) => t >= k.wall);
    if (sent !== undefined) serverRecoveryMs.push(sent - k.wall);
    const r = bySid.get(callId);
    if (!r) {
      notRecovered.push(`kill ${k.n}: ${callId}: no result from its caller`);
      continue;
    }
    const killT = k.at - r.startAt;
    const openIdx = r.timeline.findIndex(
      (e, i) => i > 0 && e.kind === 'stream' && e.event === 'open' && e.t > killT,
    );
    const after = openIdx < 0 ? [] : r.timeline.slice(openIdx + 1);
    const audioIdx = after.findIndex((e) => e.kind === 'agent');
    const audio = after[audioIdx];
    if (openIdx < 0 || audio === undefined) {
      notRecovered.push(
        `call ${r.i} (${callId}), kill ${k.n}: ${openIdx < 0 ? 'no new stream' : 'no agent audio after'}`,
      );
      continue;
    }
    if (after.slice(0, audioIdx).some((e) => e.kind === 'stream' && e.event === 'closed')) {
      cutBeforePrompt += 1;
      continue;
    }
    const took = r.startAt + audio.t - k.at;
    recoveryMs.push(took);
    // Where the time went, for the slowest ones: the drop seen, the new stream, the first audio and its prompt.
    const open = r.timeline[openIdx]!;
    const closed = r.timeline.slice(0, openIdx).findLast((e) => e.kind === 'stream' && e.event === 'closed');
    const rel = (t: number | undefined): string =>
      t === undefined ? '?' : `+${(r.startAt + t - k.at).toFixed(0)}`;
    const mark = audio.kind === 'agent' ? audio.mark || '(cleared)' : '';
    recoveryDetail.push({
      took,
      text:
        `${took.toFixed(0)} ms: call ${r.i} (${callId}), kill ${k.n}: stream closed ${rel(closed?.t)}, ` +
        `new stream open ${rel(open.t)}, server sent audio ${sent === undefined ? '?' : `+${sent - k.wall}`}, ` +
        `agent audio ${rel(audio.t)} (${mark})`,
    });
  }
}

// Journal append latency, measured here on an idle machine rather than during the run.
const appendFigures: string[] = [];
appendFigures.push(await appendLatency('sqlite', `sqlite:${join(tmp, 'append.db')}`));
appendFigures.push(
  (await postgresReachable())
    ? await appendLatency('postgres', PG_URL)
    : `postgres  skipped: not reachable at ${PG_BASE}`,
);

async function appendLatency(name: string, url: string): Promise<string> {
  try {
    const store = await withTimeout(openStore(url, { logger: memoryLogger('warn').logger }), 15_000);
    try {
      const lease = await store.acquire(`CAchaosappend${process.pid}`, 'bench-chaos');
      const times: number[] = [];
      for (let seq = 1; seq <= 520; seq++) {
        const at = Date.now();
        const event = { type: 'dtmf', at, digit: '1' };
        const line = encodeRecord({ v: 1, callId: lease.callId, seq, at, kind: 'in', event });
        const record: StoredRecord = { seq, kind: 'in', at, line };
        const started = performance.now();
        await store.append(lease, [record]);
        // The first 20 warm the connection and caches up.
        if (seq > 20) times.push(performance.now() - started);
      }
      const p = (q: number): string => percentile(times, q).toFixed(2);
      return `${name.padEnd(9)} ${times.length} single-record appends: p50 ${p(50)} ms, p99 ${p(99)} ms`;
    } finally {
      await store.close();
    }
  } catch (err) {
    return `${name.padEnd(9)} failed: ${errText(err)}`;
  }
}

// ---- print ----

const ms = (values: number[], q: number): string =>
  values.length === 0 ? '-' : `${percentile(values, q).toFixed(0)} ms`;
const pct = (a: number, b: number): string => (b === 0 ? '-' : `${((100 * a) / b).toFixed(0)}%`);
const checks = [...journalChecks.values()];
const lostTurns = checks.flatMap((c) => c.lost);
const callerMissing = checks.flatMap((c) => c.callerMissing);
const journalErrors = [...journalChecks].filter(([, c]) => c.error !== null);
const held = kills.reduce((sum, k) => sum + k.held.length, 0);

console.log(`
== chaos: ${STORE}, ${CALLS} calls, ${kills.length}/${KILLS} kills${stopReason ? ` (stopped: ${stopReason})` : ''}
run took                 ${(runMs / 1000).toFixed(1)} s on ${availableParallelism()} CPUs
calls completed          ${completed.length}/${CALLS} (${pct(completed.length, CALLS)}); placed, and the agent ended the call
calls resumed            ${resumed.length}/${CALLS} (≥2 streams); ${held} call-kills (calls held by a killed instance)
committed turns lost     ${lostTurns.length} by the journals (a committed answer asked for again); ${callerMissing.length} by the callers (an acknowledged input not journaled)
journals read            ${checks.length - journalErrors.length}/${runs.filter((r) => r.result).length}
orders                   ${orders.applied.length} applied, ${orders.repeats} deduplicated repeat(s) of an applied key, ${orders.unkeyed} unkeyed; ${doubleOrders.length} call(s) with more than one order
kill → next agent audio  p50 ${ms(recoveryMs, 50)}, p99 ${ms(recoveryMs, 99)}, max ${ms(recoveryMs, 100)} over ${recoveryMs.length} resumed call-kills (caller's timeline); ${cutBeforePrompt} cut again before their first prompt ended, ${notRecovered.length} never resumed
  by the servers' logs   p50 ${ms(serverRecoveryMs, 50)}, p99 ${ms(serverRecoveryMs, 99)}, max ${ms(serverRecoveryMs, 100)} over ${serverRecoveryMs.length} (kill to 'first agent audio sent' on the new stream)
requests sent again      ${fetchRetries.length} (a kept-alive balancer connection to a killed instance had failed)
restart after kill       p50 ${ms(
  kills.flatMap((k) => (k.restartMs === null ? [] : [k.restartMs])),
  50,
)}, p99 ${ms(
  kills.flatMap((k) => (k.restartMs === null ? [] : [k.restartMs])),
  99,
)}
journal append latency
  ${appendFigures.join('\n  ')}`);

const failures = runs.filter((r) => !completed.includes(r));
const list = (title: string, items: string[]): void => {
  if (items.length === 0) return;
  console.log(`${title} (${items.length}):`);
  for (const item of items.slice(0, 20)) console.log(`  ${item}`);
  if (items.length > 20) console.log(`  ... and ${items.length - 20} more`);
};
list(
  'calls not completed',
  failures.map((r) => `call ${r.i}${r.result ? ` (${r.result.callSid})` : ''}: ${whyFailed(r)}`),
);
list('committed turns lost (journal)', lostTurns);
list('acknowledged inputs not journaled (caller)', callerMissing);
list(
  'orders placed twice',
  doubleOrders.map(([callId, keys]) => `${callId}: ${[...keys].join(', ')}`),
);
list('calls held by a killed instance that did not come back', notRecovered);
list(
  'slowest resumes (times from the kill, ms)',
  recoveryDetail
    .sort((a, b) => b.took - a.took)
    .slice(0, 5)
    .map((d) => d.text),
);
list(
  'journals not read',
  journalErrors.map(([r, c]) => `call ${r.i}: ${c.error}`),
);
list('instances that did not restart', restartFailures);
list('caller requests sent again on a fresh connection', fetchRetries);
list(
  'server errors logged',
  serverErrors.map(
    (e) =>
      `${JSON.stringify(e.slot)} ${JSON.stringify(e.callId ?? '')} ${JSON.stringify(e.msg)} ${JSON.stringify(e.code ?? '')}`,
  ),
);

// ---- clean up ----

await orders.close();
rmSync(tmp, { recursive: true, force: true });
await dropSchema(SCHEMA);
process.exit(0);

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
