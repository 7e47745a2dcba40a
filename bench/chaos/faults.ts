/**
 * The fault injectors, one per kind. Each injects one fault into a running pair of instances, waits for it to
 * last its time, heals it (always, even when the run is stopped meanwhile) and says what it did and which calls
 * it affected.
 *
 * - kill: SIGKILL one instance and restart it.
 * - pg-restart: stop the private PostgreSQL as a crash would (immediate) and start it again.
 * - pg-pause: SIGSTOP every process of the private PostgreSQL for the hold time, then SIGCONT.
 * - partition-db: drop every packet between the namespaced instance and the database for the hold time.
 * - partition-callers: the same between the namespaced instance and its callers (the balancer); its health
 *   checks fail, so the balancer marks it down and cuts its streams.
 * - clock-step: step one instance's wall clock minutes forward or back, kill an instance so calls resume across
 *   the skew (the stepped one's calls on the true clock, or the other's on the stepped clock), then step back.
 */
import type { ClockFile } from './clock-file.ts';
import type { HealthCheckedBalancer } from './health-balancer.ts';
import type { Instance } from './instances.ts';
import type { Netns, Peer } from './netns.ts';
import type { PrivatePostgres } from './private-postgres.ts';
import type { FaultRecord } from './recovery.ts';

export const FAULT_KINDS = [
  'kill',
  'pg-restart',
  'pg-pause',
  'partition-db',
  'partition-callers',
  'clock-step',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What a kind needs from the machine beyond two instances and a shared store. */
export const NEEDS: Readonly<Record<FaultKind, readonly ('private-pg' | 'netns' | 'faketime')[]>> = {
  kill: [],
  'pg-restart': ['private-pg'],
  'pg-pause': ['private-pg'],
  'partition-db': ['private-pg', 'netns'],
  'partition-callers': ['private-pg', 'netns'],
  'clock-step': ['faketime'],
};

/** How long a fault lasts by default (ms), when it lasts. */
export const DEFAULT_HOLD_MS: Readonly<Record<FaultKind, number>> = {
  kill: 0,
  'pg-restart': 0,
  'pg-pause': 8000,
  'partition-db': 10_000,
  'partition-callers': 10_000,
  'clock-step': 10_000,
};

/** What the injectors act on; `instances` is shared with the phase and changed by restarts. */
export interface FaultContext {
  instances: (Instance | null)[];
  /** Start slot `idx` again; resolves with how long it took (ms). */
  restart(idx: number): Promise<number>;
  balancer: HealthCheckedBalancer;
  pg: PrivatePostgres | null;
  netns: Netns | null;
  /** Each slot's clock file (clock-step only). */
  clocks: (ClockFile | null)[];
  holdMs: number;
  /** How far a clock step goes, in seconds. */
  stepS: number;
  signal: AbortSignal;
}

/** Inject fault number `n` (from 1) of `kind`. */
export async function inject(kind: FaultKind, n: number, ctx: FaultContext): Promise<FaultRecord> {
  switch (kind) {
    case 'kill':
      return killOne(n, ctx, Math.random() < 0.5 ? 0 : 1, 'kill');
    case 'pg-restart':
      return pgRestart(n, ctx);
    case 'pg-pause':
      return pgPause(n, ctx);
    case 'partition-db':
      return partition(n, ctx, 'db', kind);
    case 'partition-callers':
      return partition(n, ctx, 'callers', kind);
    case 'clock-step':
      return clockStep(n, ctx);
  }
}

async function killOne(n: number, ctx: FaultContext, idx: number, kind: string): Promise<FaultRecord> {
  const victim = ctx.instances[idx]!;
  const at = performance.now();
  const wall = Date.now();
  const held = victim.live;
  victim.kill('SIGKILL');
  // As a balancer that saw the process die: new connections go to the survivor at once.
  ctx.instances[idx] = null;
  ctx.balancer.setInstances(ctx.instances);
  await victim.closed;
  // And any call whose start it logged as it died.
  const affected = [...new Set([...held, ...victim.live])];
  const restartMs = await ctx.restart(idx);
  return {
    n,
    kind,
    target: victim.writer,
    at,
    wall,
    heldMs: null,
    affected,
    detail: `${victim.writer} (pid ${victim.pid}) held ${affected.length}; back up in ${(restartMs / 1000).toFixed(1)} s`,
  };
}

function liveCalls(ctx: FaultContext): string[] {
  return ctx.instances.flatMap((i) => (i ? i.live : []));
}

async function pgRestart(n: number, ctx: FaultContext): Promise<FaultRecord> {
  const pg = ctx.pg!;
  const affected = liveCalls(ctx);
  const at = performance.now();
  const wall = Date.now();
  try {
    await pg.stopImmediate();
  } finally {
    await pg.start();
  }
  const heldMs = performance.now() - at;
  return {
    n,
    kind: 'pg-restart',
    target: 'postgres',
    at,
    wall,
    heldMs,
    affected,
    detail: `down ${(heldMs / 1000).toFixed(1)} s with ${affected.length} live calls`,
  };
}

async function pgPause(n: number, ctx: FaultContext): Promise<FaultRecord> {
  const pg = ctx.pg!;
  const affected = liveCalls(ctx);
  const at = performance.now();
  const wall = Date.now();
  pg.pause();
  try {
    await hold(ctx.holdMs, ctx.signal);
  } finally {
    pg.resume();
  }
  const heldMs = performance.now() - at;
  return {
    n,
    kind: 'pg-pause',
    target: 'postgres',
    at,
    wall,
    heldMs,
    affected,
    detail: `paused ${(heldMs / 1000).toFixed(1)} s with ${affected.length} live calls`,
  };
}

async function partition(n: number, ctx: FaultContext, peer: Peer, kind: FaultKind): Promise<FaultRecord> {
  const netns = ctx.netns!;
  const idx = ctx.instances.findIndex((i) => i?.spec.netns);
  const target = ctx.instances[idx]!;
  const affected = target.live;
  const at = performance.now();
  const wall = Date.now();
  await netns.cut(peer);
  let markedDown = false;
  try {
    await hold(ctx.holdMs, ctx.signal);
    markedDown = !ctx.balancer.isUp(target);
  } finally {
    await netns.heal(peer);
  }
  const heldMs = performance.now() - at;
  return {
    n,
    kind,
    target: target.writer,
    at,
    wall,
    heldMs,
    affected,
    detail:
      `${target.writer} cut from ${peer === 'db' ? 'the database' : 'its callers'} ${(heldMs / 1000).toFixed(1)} s ` +
      `holding ${affected.length}; ${markedDown ? 'marked down' : 'still up'} at the balancer when healed`,
  };
}

/** Which instance is stepped, which way, and which instance is then killed, for fault n (cycling). */
const CLOCK_PLAN: readonly { stepped: number; sign: 1 | -1; kill: 'other' | 'stepped' }[] = [
  // The other's calls resume on an instance whose clock is ahead: their timers' deadlines look past.
  { stepped: 0, sign: 1, kill: 'other' },
  // The stepped one's deadlines, written behind, resume on the true clock: they look past too.
  { stepped: 0, sign: -1, kill: 'stepped' },
  // And the two harmless ways round: deadlines that look further off than they are.
  { stepped: 1, sign: 1, kill: 'stepped' },
  { stepped: 1, sign: -1, kill: 'other' },
];

async function clockStep(n: number, ctx: FaultContext): Promise<FaultRecord> {
  const plan = CLOCK_PLAN[(n - 1) % CLOCK_PLAN.length]!;
  const clock = ctx.clocks[plan.stepped]!;
  const stepped = ctx.instances[plan.stepped]!;
  const at = performance.now();
  const wall = Date.now();
  clock.set(plan.sign * ctx.stepS);
  let killed: FaultRecord | null = null;
  try {
    // Let calls arm timers on the stepped clock (libfaketime reads the file within a second), then move calls
    // across the skew.
    await hold(Math.min(3000, ctx.holdMs / 2), ctx.signal);
    if (!ctx.signal.aborted) {
      const victim = plan.kill === 'stepped' ? plan.stepped : 1 - plan.stepped;
      killed = await killOne(n, ctx, victim, 'clock-step');
    }
    await hold(Math.max(0, ctx.holdMs - (performance.now() - at)), ctx.signal);
  } finally {
    clock.set(0);
  }
  const heldMs = performance.now() - at;
  const way = `${plan.sign > 0 ? '+' : '-'}${ctx.stepS / 60} min`;
  return {
    n,
    kind: 'clock-step',
    target: stepped.writer,
    // Calls are disrupted by the kill, not by the step before it: the times to recovery count from the kill.
    at: killed?.at ?? at,
    wall: killed?.wall ?? wall,
    heldMs,
    affected: killed?.affected ?? [],
    detail: `${stepped.slot} stepped ${way} for ${(heldMs / 1000).toFixed(1)} s; killed ${killed?.detail ?? 'none'}`,
  };
}

/** Wait `ms`, or less when the run is stopped. */
function hold(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
