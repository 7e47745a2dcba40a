/**
 * What a chaos run prints: for each phase (fault kind) its figures and the details behind any that are not
 * zero, then one table with a row per fault kind. Figures, not pass/fail: the targets are zero lost turns,
 * doubled effects and fencing violations, and every call completed with no journal left open.
 */
import { percentile } from '../server-process.ts';
import { completed, streamsOf, whyFailed } from './callers.ts';
import type { PhaseResult } from './phase.ts';
import { serverRecoveries } from './recovery.ts';

const ms = (values: number[], q: number): string =>
  values.length === 0 ? '-' : `${percentile(values, q).toFixed(0)} ms`;

function list(title: string, items: readonly string[], limit = 20): void {
  if (items.length === 0) return;
  console.log(`${title} (${items.length}):`);
  for (const item of items.slice(0, limit)) console.log(`  ${item}`);
  if (items.length > limit) console.log(`  ... and ${items.length - limit} more`);
}

/** The figures of one phase, and the details of anything that went wrong in it. */
export function printPhase(p: PhaseResult): void {
  const c = p.check;
  const done = p.runs.filter(completed).length;
  const resumed = p.runs.filter((r) => streamsOf(r) >= 2).length;
  const affected = p.faults.reduce((sum, f) => sum + f.affected.length, 0);
  const failures = [...p.logs.journalFailures].map(([code, n]) => `${n} ${code}`).join(', ') || 'none';
  const downs = p.health.filter((e) => !e.up);
  console.log(`
== ${p.setup.kind}: ${p.runs.length} calls, ${p.faults.length}/${p.setup.count} faults${p.stopped ? ` (stopped: ${p.stopped})` : ''}
store                    ${p.storeLabel}; an instance starts in ${p.startupMs.toFixed(0)} ms; phase took ${(p.runMs / 1000).toFixed(1)} s
calls completed          ${done}/${p.runs.length}; resumed (≥2 streams) ${resumed}; ${affected} call-faults (calls a fault hit)
committed turns lost     ${c.lostTurns.length} by the journals; ${c.callerMissing.length} by the callers
doubled effects          ${c.doubledEffects.length} calls with two orders; ${p.orders.applied} orders applied, ${c.repeatsDeduplicated} repeats deduplicated by key, ${p.orders.unkeyed} unkeyed
fencing violations       ${c.fencingViolations.length}; ${c.appendsAudited} appends and ${c.leasesAudited} leases audited${c.appendsAudited === 0 ? ' (no write audit for this store)' : ''}; ${p.logs.fenced} appends refused by the fence (JOURNAL_FENCED)
journals                 ${c.journals} read, ${c.openJournals.length} left open, ${c.neverStarted.length} admitted and never started, ${c.journalErrors.length} unreadable; calls stopped by a failed journal: ${failures}
no-input timers fired    ${c.timersFired.length}, ${c.timersActedOn.length} acted on (the callers always answer in time)
caller stall             p50 ${ms(p.recovery.times, 50)}, max ${ms(p.recovery.times, 100)} over ${p.recovery.times.length} call-faults; ${p.recovery.completedSilently} completed with no audio after; ${p.recovery.notRecovered.length} never recovered
balancer                 ${downs.length} mark-downs (${downs.reduce((s, e) => s + e.dropped, 0)} connections cut); ${p.fetchRetries} requests sent again on a fresh connection`);
  if (p.setup.kind === 'kill') {
    const server = serverRecoveries(p.faults, p.logs.firstAudioSent);
    console.log(
      `  by the servers' logs   p50 ${ms(server, 50)}, p99 ${ms(server, 99)}, max ${ms(server, 100)} over ${server.length} (kill to 'first agent audio sent' on the new stream)`,
    );
  }
  list(
    'faults',
    p.faults.map((f) => `${f.kind} ${f.n}: ${f.detail}`),
  );
  list(
    'calls not completed',
    p.runs
      .filter((r) => !completed(r))
      .map((r) => `call ${r.i}${r.result ? ` (${r.result.callSid})` : ''}: ${whyFailed(r)}`),
  );
  list('committed turns lost (journal)', c.lostTurns);
  list('acknowledged inputs not journaled (caller)', c.callerMissing);
  list('orders placed twice', c.doubledEffects);
  list('fencing violations', c.fencingViolations);
  list('journals left open', c.openJournals);
  list('calls admitted whose caller never got the answer', c.neverStarted);
  list('journals not read', c.journalErrors);
  list('no-input timers that fired', c.timersFired);
  list('calls a fault hit that never recovered', p.recovery.notRecovered);
  list(
    'slowest recoveries',
    p.recovery.slowest.map((s) => s.text),
  );
  list(
    'status callbacks not answered',
    p.runs.flatMap((r) => (r.statusError ? [`call ${r.i}: ${r.statusError}`] : [])),
  );
  list('faults that failed', p.restartFailures);
  list(
    'server errors logged',
    p.logs.errors.map((e) => `${e.slot} ${e.callId || '-'} ${JSON.stringify(e.msg)} ${e.code}`),
  );
}

/** One row per fault kind. */
export function printSummary(phases: readonly PhaseResult[]): void {
  const header = [
    'fault kind',
    'calls',
    'faults',
    'completed',
    'resumed',
    'lost turns',
    'doubled',
    'fencing',
    'open',
    'timers fired/acted',
    'fenced',
    'stall p50',
    'max',
  ];
  const rows = phases.map((p) => {
    const c = p.check;
    return [
      p.setup.kind,
      String(p.runs.length),
      String(p.faults.length),
      String(p.runs.filter(completed).length),
      String(p.runs.filter((r) => streamsOf(r) >= 2).length),
      String(c.lostTurns.length + c.callerMissing.length),
      String(c.doubledEffects.length),
      String(c.fencingViolations.length),
      String(c.openJournals.length),
      `${c.timersFired.length}/${c.timersActedOn.length}`,
      String(p.logs.fenced),
      ms(p.recovery.times, 50),
      ms(p.recovery.times, 100),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n== per fault kind (targets: lost turns, doubled, fencing, open 0; completed = calls)`);
  console.log(line(header));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const row of rows) console.log(line(row));
  console.log(
    'lost turns: committed answers asked again + acknowledged inputs not journaled; doubled: calls with two orders;\n' +
      'fencing: audit violations; open: journals with no end; timers: no-input timers that fired / that the flow\n' +
      "acted on; fenced: appends the fence refused; stall: from the fault (or the caller's key after it) to the\n" +
      "agent's next audio, per call a fault hit",
  );
}
