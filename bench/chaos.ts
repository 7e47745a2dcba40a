/**
 * Chaos: two real `switchboard serve` processes share one journal store behind a health-checking TCP balancer
 * while simulated callers order pizzas by keypad, and faults are injected one kind per phase: instances killed
 * and restarted (the default), the database crash-restarted or paused, one instance cut off from the database or
 * from its callers (it runs in a network namespace), one instance's wall clock stepped. After each phase a
 * checker reads every call's journal, the database's write audit, the callers' records and the orders service's
 * idempotency records, and verifies that no committed turn was lost, no effect applied twice, the fence held
 * (one writer per call per lease) and every call ended or resumed; it prints figures per fault kind.
 *
 * Parts are in bench/chaos/: the options, the run's lifecycle and cleanup, the private PostgreSQL, the network
 * namespace, the instances, the balancer's health checks, the callers, the fault injectors, the write audit,
 * the checker, recovery times and the report.
 *
 * Usage: npm run bench:chaos -- [--faults kill,pg-restart,...|all] [--calls N] [--count M] (--help for all)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyExampleFlows } from '../test/fixtures/example-flows.ts';
import { dropSchema, postgresReachable, TEST_POSTGRES_URL } from '../test/support/postgres.ts';
import { appendLatency } from './chaos/append-latency.ts';
import { retryPinnedRequests } from './chaos/callers.ts';
import { faketimeLibrary } from './chaos/clock-file.ts';
import { NEEDS, type FaultKind } from './chaos/faults.ts';
import { atExit, cleanUpAll, installHandlers, stopReason } from './chaos/lifecycle.ts';
import { Netns } from './chaos/netns.ts';
import { parseOptions } from './chaos/options.ts';
import { runPhase, type PhaseResult, type PhaseStore } from './chaos/phase.ts';
import { PrivatePostgres } from './chaos/private-postgres.ts';
import { printPhase, printSummary } from './chaos/report.ts';

const options = parseOptions(process.argv.slice(2));
/** Per phase; past it the run stops, and what was gathered is checked and printed. */
const PHASE_TIMEOUT_MS = 10 * 60_000;
installHandlers(PHASE_TIMEOUT_MS * options.faults.length);

const tmp = mkdtempSync(join(tmpdir(), 'sb-chaos-'));
atExit('temporary folder', () => rmSync(tmp, { recursive: true, force: true }));
// Not flows/ itself: flows a user adds there must not change what the bench runs.
const flows = await copyExampleFlows();
atExit('flows copy', () => rmSync(flows.dir, { recursive: true, force: true }));
const fetchRetries = retryPinnedRequests();

// What the chosen kinds need, and which kinds this machine cannot run.
const needs = new Set(options.faults.flatMap((kind) => NEEDS[kind]));
const skipped = new Map<FaultKind, string>();
const killOnly = options.faults.every((kind) => kind === 'kill');
let netns: Netns | null = null;
if (needs.has('netns')) {
  if (Netns.available()) netns = await Netns.create();
  else skip('netns', 'needs root, iproute2 and iptables for a network namespace');
}
const faketime = needs.has('faketime') ? faketimeLibrary() : null;
if (needs.has('faketime') && faketime === null)
  skip('faketime', 'needs libfaketime (apt-get install faketime)');
let pg: PrivatePostgres | null = null;
if (!killOnly) {
  if (PrivatePostgres.binaries() !== null && process.getuid?.() === 0) {
    pg = await PrivatePostgres.create(netns ? { listen: [netns.host.db], trust: [netns.cidr] } : {});
  } else skip('private-pg', 'needs root and the PostgreSQL server binaries (apt-get install postgresql)');
}
// Without a private cluster, kills run against the shared one (or SQLite).
if (pg === null && options.store === 'postgres' && !(await postgresReachable())) {
  const why = `PostgreSQL is not reachable at ${TEST_POSTGRES_URL}; run with --store sqlite, or start it`;
  if (killOnly) {
    console.log(why);
    cleanUpAll();
    process.exit(1);
  }
  skipped.set('kill', why);
}

function skip(need: string, why: string): void {
  for (const kind of options.faults)
    if ((NEEDS[kind] as readonly string[]).includes(need)) skipped.set(kind, why);
}

const store: PhaseStore =
  pg !== null
    ? { kind: 'private', pg }
    : options.store === 'sqlite'
      ? { kind: 'sqlite' }
      : { kind: 'shared' };
console.log(
  `chaos: ${options.faults.join(', ')}; ${options.calls} calls and ${options.count} faults per kind; ` +
    `${availableParallelism()} CPUs${netns ? `; namespace ${netns.name} (${netns.cidr})` : ''}` +
    `${pg ? `; private PostgreSQL on port ${pg.port}` : ''}`,
);

const phases: PhaseResult[] = [];
for (const kind of options.faults) {
  if (stopReason() !== null) break;
  const why = skipped.get(kind);
  if (why !== undefined) {
    console.log(`\n-- ${kind}: skipped: ${why}`);
    continue;
  }
  const phase = await runPhase(
    {
      kind,
      calls: options.calls,
      count: options.count,
      holdMs: options.holdMs(kind),
      stepS: options.stepS,
      store,
      netns,
      faketime,
      flowsDir: flows.dir,
      logsDir: options.logs,
      tmp,
    },
    fetchRetries,
  );
  phases.push(phase);
  printPhase(phase);
}
printSummary(phases);
for (const [kind, why] of skipped) console.log(`skipped ${kind}: ${why}`);

if (killOnly && stopReason() === null) {
  // As the kill bench always printed: each store's append latency, on the idle machine.
  const lines = [await appendLatency('sqlite', `sqlite:${join(tmp, 'append.db')}`)];
  if (options.store === 'postgres') {
    const schema = `sb_chaos_append_${process.pid}`;
    lines.push(await appendLatency('postgres', `${TEST_POSTGRES_URL}?schema=${schema}`));
    await dropSchema(schema);
  }
  console.log(`journal append latency\n  ${lines.join('\n  ')}`);
}
if (fetchRetries.length > 0) {
  console.log(`caller requests sent again on a fresh connection (${fetchRetries.length}):`);
  for (const line of fetchRetries.slice(0, 20)) console.log(`  ${line}`);
}

cleanUpAll();
process.exit(0);
