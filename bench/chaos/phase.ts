/**
 * One phase of a chaos run: one fault kind against a fresh pair of instances and a fresh journal (its own
 * schema or file). Calls start evenly over the time the faults are expected to take, so some are live at every
 * fault; faults come one at a time, a few seconds apart (longer after faults that last, so the instance hit takes
 * calls again before the next). When calls and faults are done the instances are stopped, and the checker reads
 * what they left.
 */
import { join } from 'node:path';
import { openStore } from '../../src/journal/open-store.ts';
import { memoryLogger } from '../../src/observability/logger.ts';
import { startOrdersService } from '../../test/fakes/orders-service.ts';
import { dropSchema, TEST_POSTGRES_URL } from '../../test/support/postgres.ts';
import { errText, placeOne, settled, type CallRun } from './callers.ts';
import { check, type CheckResult } from './checker.ts';
import { ClockFile } from './clock-file.ts';
import { inject, type FaultContext, type FaultKind } from './faults.ts';
import { HealthCheckedBalancer, type HealthEvent } from './health-balancer.ts';
import { ServerLogs } from './instances.ts';
import { stopped, stopReason, stopSignal } from './lifecycle.ts';
import type { Netns } from './netns.ts';
import { InstancePair } from './pair.ts';
import type { PrivatePostgres } from './private-postgres.ts';
import { recoveries, type FaultRecord, type Recovery } from './recovery.ts';
import { installAudit, readAudit } from './write-audit.ts';

/** Where the phase's journal lives. */
export type PhaseStore = { kind: 'private'; pg: PrivatePostgres } | { kind: 'shared' } | { kind: 'sqlite' };

export interface PhaseSetup {
  kind: FaultKind;
  calls: number;
  count: number;
  holdMs: number;
  stepS: number;
  store: PhaseStore;
  /** Slot B runs in it when given. */
  netns: Netns | null;
  /** libfaketime, for clock-step. */
  faketime: string | null;
  flowsDir: string;
  logsDir: string | null;
  tmp: string;
}

export interface PhaseResult {
  setup: PhaseSetup;
  storeLabel: string;
  runs: CallRun[];
  faults: FaultRecord[];
  check: CheckResult;
  recovery: Recovery;
  logs: ServerLogs;
  health: HealthEvent[];
  orders: { applied: number; repeats: number; unkeyed: number };
  fetchRetries: number;
  restartFailures: string[];
  startupMs: number;
  runMs: number;
  stopped: string | null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runPhase(setup: PhaseSetup, fetchRetries: string[]): Promise<PhaseResult> {
  const t0 = performance.now();
  const retriesBefore = fetchRetries.length;
  const schema = `sb_chaos_${setup.kind.replace(/-/g, '_')}_${process.pid}`;
  const urls = storeUrls(setup, schema);
  // Create the store's tables before any instance runs, then audit them (PostgreSQL only).
  const created = await openStore(urls.checker, { logger: memoryLogger('warn').logger });
  await created.close();
  if (urls.auditBase !== null) await installAudit(urls.auditBase, schema);

  const orders = await startOrdersService(setup.netns?.host.services ?? '127.0.0.1');
  const balancer = new HealthCheckedBalancer();
  const publicUrl = await balancer.listen();
  const logs = new ServerLogs();
  const library = setup.kind === 'clock-step' ? setup.faketime : null;
  const clockFiles =
    library === null
      ? null
      : (['A', 'B'] as const).map((slot) => new ClockFile(join(setup.tmp, `clock-${slot}`)));
  const pair = new InstancePair({
    env: {
      PUBLIC_URL: publicUrl,
      STT: 'off',
      NLU: 'off',
      ORDERS_URL: orders.url,
      HTTP_ALLOW_HOSTS: new URL(orders.url).hostname,
      // Every caller reaches the instances through the balancer, from one address: a proxy, not one client.
      TRUSTED_SOURCES: ['127.0.0.1', ...(setup.netns ? [setup.netns.host.callers] : [])].join(','),
      PIZZA_STAFF_LINE: '+15555550100',
      LOG_LEVEL: 'info',
      FLOWS_DIR: setup.flowsDir,
    },
    storeUrl: urls,
    netns: setup.netns,
    clocks: library === null || clockFiles === null ? null : clockFiles.map((file) => ({ file, library })),
    logsDir: setup.logsDir === null ? null : join(setup.logsDir, setup.kind),
    balancer,
    logs,
  });
  await pair.start();

  const runs: CallRun[] = [];
  const faults: FaultRecord[] = [];
  const restartFailures: string[] = [];
  const ctx: FaultContext = {
    instances: pair.instances,
    restart: (idx) => pair.restart(idx),
    balancer,
    pg: setup.store.kind === 'private' ? setup.store.pg : null,
    netns: setup.netns,
    clocks: clockFiles ?? [null, null],
    holdMs: setup.holdMs,
    stepS: setup.stepS,
    signal: stopSignal,
  };
  const plan = schedule(setup, pair.startupMs);
  console.log(
    `\n-- ${setup.kind}: ${setup.calls} calls, one every ${(plan.callGapMs / 1000).toFixed(2)} s; ${setup.count} ` +
      `faults over ~${(plan.periodMs / 1000).toFixed(0)} s; store ${urls.label}; slot B ` +
      `${setup.netns ? `in namespace ${setup.netns.name}` : 'on the host'}`,
  );

  const faulting = faultLoop(setup, plan, ctx, { runs, faults, restartFailures, t0 });
  await Promise.race([Promise.all([placeCalls(setup, plan, publicUrl, runs), faulting]), stopped]);
  if (stopReason() !== null) {
    // Aborted calls hang up; give them a moment to hand their results back, no more.
    await Promise.race([Promise.all(runs.map((r) => settled(r))), sleep(5000)]);
    // A fault under way is let finish (it heals what it broke) so its restarted child is known and stopped.
    await Promise.race([faulting, sleep(30_000)]);
  }
  const runMs = performance.now() - t0;

  // The instances are done; stop them before reading the journals so nothing writes meanwhile.
  await pair.stop();
  await balancer.close();
  let audit = null;
  if (urls.auditBase !== null) {
    try {
      audit = await readAudit(urls.auditBase, schema);
    } catch (err) {
      console.log(`!! could not read the write audit: ${errText(err)}`);
    }
  }
  const checked = await check({ storeUrl: urls.checker, audit, runs, orders });
  await orders.close();
  if (setup.store.kind === 'shared') await dropSchema(schema);

  return {
    setup,
    storeLabel: urls.label,
    runs,
    faults,
    check: checked,
    recovery: recoveries(faults, runs),
    logs,
    health: balancer.events,
    orders: { applied: orders.applied.length, repeats: orders.repeats, unkeyed: orders.unkeyed },
    fetchRetries: fetchRetries.length - retriesBefore,
    restartFailures,
    startupMs: pair.startupMs,
    runMs,
    stopped: stopReason(),
  };
}

/** How calls and faults are spread over a phase. */
interface Schedule {
  callGapMs: number;
  periodMs: number;
  /** Before each fault: at least this, plus up to `faultSpreadMs` more at random. */
  faultGapMs: number;
  faultSpreadMs: number;
  /** How long callers think before answering. */
  thinkMs: number;
}

function schedule(setup: PhaseSetup, startupMs: number): Schedule {
  // Faults that last leave time after each for the hit instance to take calls again before the next.
  const [faultGapMs, faultSpreadMs] = setup.holdMs === 0 ? [1500, 2500] : [5000, 4000];
  const restarts = setup.kind === 'kill' || setup.kind === 'clock-step' ? startupMs : 0;
  const perFaultMs = faultGapMs + faultSpreadMs / 2 + setup.holdMs + restarts + 500;
  const periodMs = Math.max(setup.count * perFaultMs, 5000);
  return {
    callGapMs: periodMs / setup.calls,
    periodMs,
    faultGapMs,
    faultSpreadMs,
    // Clock steps matter to calls whose no-input timer is armed when they move: callers who think longer (still
    // well inside the flow's 6 s) leave it armed for more of each turn.
    thinkMs: setup.kind === 'clock-step' ? 2500 : 200,
  };
}

/** Start the phase's calls one gap apart; resolves when all are over. */
async function placeCalls(setup: PhaseSetup, plan: Schedule, url: string, runs: CallRun[]): Promise<void> {
  const placed: Promise<void>[] = [];
  for (let i = 0; i < setup.calls && stopReason() === null; i++) {
    placed.push(placeOne(i, url, runs, stopSignal, plan.thinkMs));
    if (i < setup.calls - 1) await Promise.race([sleep(plan.callGapMs), stopped]);
  }
  await Promise.all(placed);
}

/** Inject the phase's faults one at a time; a fault that fails (an instance that will not restart) ends them. */
async function faultLoop(
  setup: PhaseSetup,
  plan: Schedule,
  ctx: FaultContext,
  out: { runs: CallRun[]; faults: FaultRecord[]; restartFailures: string[]; t0: number },
): Promise<void> {
  for (let n = 1; n <= setup.count && stopReason() === null; n++) {
    await Promise.race([sleep(plan.faultGapMs + Math.random() * plan.faultSpreadMs), stopped]);
    if (stopReason() !== null || ctx.instances.some((s) => s === null)) break;
    try {
      const fault = await inject(setup.kind, n, ctx);
      out.faults.push(fault);
      const live = out.runs.filter((r) => r.result === null && r.error === null).length;
      const at = ((fault.at - out.t0) / 1000).toFixed(1);
      console.log(`${setup.kind} ${n}/${setup.count} at ${at} s: ${fault.detail}; ${live} calls live`);
    } catch (err) {
      out.restartFailures.push(`${setup.kind} ${n}: ${errText(err)}`);
      console.log(`${setup.kind} ${n}/${setup.count} failed (${errText(err)}); no more faults this phase`);
      return;
    }
  }
}

/** The store's URL as each party reaches it: the host's instance, the namespaced one, the checker. */
function storeUrls(
  setup: PhaseSetup,
  schema: string,
): { host: string; namespaced: string; checker: string; auditBase: string | null; label: string } {
  if (setup.store.kind === 'sqlite') {
    const url = `sqlite:${join(setup.tmp, `calls-${setup.kind}.db`)}`;
    return { host: url, namespaced: url, checker: url, auditBase: null, label: 'sqlite' };
  }
  if (setup.store.kind === 'shared') {
    const url = `${TEST_POSTGRES_URL}?schema=${schema}`;
    return {
      host: url,
      namespaced: url,
      checker: url,
      auditBase: TEST_POSTGRES_URL,
      label: `postgres (${url})`,
    };
  }
  const pg = setup.store.pg;
  const host = `${pg.url()}?schema=${schema}`;
  const namespaced = setup.netns ? `${pg.url(setup.netns.host.db)}?schema=${schema}` : host;
  return {
    host,
    namespaced,
    checker: host,
    auditBase: pg.url(),
    label: `private postgres :${pg.port} (${schema})`,
  };
}
