/**
 * The steps of a load run: for each step, ramp up to its number of concurrent calls at --ramp calls a second,
 * then hold them for --hold while measuring turns, agent audio, the server's processes and the generator's own
 * event loop. Calls placed in earlier steps stay up, so steps of 50,100,150 add 50 calls each. The whole run is
 * bounded by --max-seconds; when it ends, for any reason, every call is hung up.
 */
import { setMaxListeners } from 'node:events';
import { networkInterfaces } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServerUnreachableError } from '../simulator/webhook.ts';
import { LoadCall, type LoadCallContext } from './caller.ts';
import type { Utterances } from './caller-audio.ts';
import { FrameClock } from './frame-clock.ts';
import type { LoadOptions } from './options.ts';
import { findListeningPid, sampleTree, type TreeSample } from './process-stats.ts';
import { ANSWER_TARGET_MS, loopDelayWarning, type LoadResult, type StepReport } from './report.ts';
import { percentiles, StepRecorder } from './statistics.ts';
import { TargetRefusedError } from './target.ts';

export interface RunHooks {
  /** Each step's report, as soon as its hold is over. */
  onStep?(report: StepReport): void;
}

/** Runs the steps of `options` against its --url; never throws for what the server does. */
export async function runLoad(
  options: LoadOptions,
  utterances: Utterances,
  hooks: RunHooks = {},
): Promise<LoadResult> {
  const abort = new AbortController();
  setMaxListeners(0, abort.signal); // one listener per call in flight
  let stopped: string | null = null;
  const stop = (why: string): void => {
    stopped ??= why;
    abort.abort();
  };
  const deadline = setTimeout(() => stop('max-seconds'), options.maxSeconds * 1000);
  let recorder: StepRecorder | null = null;
  const calls: LoadCall[] = [];
  const clock = new FrameClock((member) => void (member as LoadCall).hangUp());
  const ctx: LoadCallContext = {
    url: options.url,
    flow: options.flow,
    authToken: options.authToken,
    allowHosts: options.allowHosts,
    utterances,
    everyMs: options.everyMs,
    answerWithinMs: options.answerWithinMs,
    clock,
    recorder: () => recorder,
  };
  const pid = options.pid ?? serverPid(options.url);
  sample(pid); // the first sample reads the clock tick rate, synchronously: not inside a step
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  clock.start();
  const steps: StepReport[] = [];

  /** Places one call; a server that cannot be reached, or a stream elsewhere, stops the whole run. */
  const place = async (call: LoadCall): Promise<Placed> => {
    try {
      return await call.place(abort.signal);
    } catch (err) {
      if (err instanceof ServerUnreachableError || err instanceof TargetRefusedError) stop(err.message);
      else if (!abort.signal.aborted) stop(`the run failed: ${(err as Error).message}`);
      return { outcome: 'failed', reason: 'the run stopped' };
    }
  };

  try {
    for (const [i, target] of options.steps.entries()) {
      const endedBefore = calls.filter((c) => c.endedByServer).length;
      const outcomes: Promise<Placed>[] = [];
      while (calls.length < target && !abort.signal.aborted) {
        const call = new LoadCall(calls.length, ctx);
        calls.push(call);
        outcomes.push(place(call));
        if (calls.length < target) await pause(1000 / options.rampPerSecond, abort.signal);
      }
      const settled = await Promise.all(outcomes);
      if (abort.signal.aborted) break;

      const rec = new StepRecorder();
      recorder = rec;
      const streamingAtStart = calls.filter((c) => c.streaming).length;
      const before = sample(pid);
      loop.reset(); // after the sample, whose reads of /proc are the generator's own work
      const t0 = performance.now();
      await pause(options.holdMs, abort.signal);
      const heldMs = performance.now() - t0;
      const after = sample(pid);
      recorder = null;
      const active = calls.filter((c) => c.streaming).length;
      const loopP99 = loop.percentile(99) / 1e6;
      const report: StepReport = {
        step: i + 1,
        target,
        placed: settled.length,
        connected: settled.filter((p) => p.outcome === 'connected').length,
        refused: settled.filter((p) => p.outcome === 'refused').length,
        failed: settled.filter((p) => p.outcome === 'failed').length,
        notConnected: tally(settled.flatMap((p) => (p.reason === null ? [] : [p.reason]))),
        active,
        endedByServer: calls.filter((c) => c.endedByServer).length - endedBefore,
        holdSeconds: heldMs / 1000,
        complete: !abort.signal.aborted,
        turns: {
          total: rec.turns,
          answered: rec.answered,
          latencyMs: percentiles(rec.latency),
          withinTarget:
            rec.turns === 0 ? null : (rec.latency.shareWithin(ANSWER_TARGET_MS)! * rec.answered) / rec.turns,
        },
        agentAudio: {
          frameGaps: rec.frameGaps.count,
          jitterP99Ms: rec.frameGaps.percentile(99),
          lateGaps: rec.lateGaps,
          stalls: rec.stalls,
          longestBreakMs: Math.round(rec.longestBreakMs),
        },
        server:
          pid !== null && before && after
            ? serverFigures(pid, before, after, heldMs, (streamingAtStart + active) / 2)
            : null,
        generatorLoopDelayP99Ms: loopP99,
        warning: loopDelayWarning(loopP99),
      };
      steps.push(report);
      hooks.onStep?.(report);
      if (abort.signal.aborted) break;
    }
  } finally {
    clearTimeout(deadline);
    recorder = null;
    await Promise.all(calls.map((c) => c.hangUp()));
    clock.stop();
    loop.disable();
  }
  const frames = { sent: 0, received: 0 };
  for (const call of calls) {
    frames.sent += call.frames.sent;
    frames.received += call.frames.received;
  }
  return { url: options.url, steps, stopped, frames };
}

type Placed = Awaited<ReturnType<LoadCall['place']>>;

/** How many times each reason occurs. */
function tally(reasons: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of reasons) out[r] = (out[r] ?? 0) + 1;
  return out;
}

function serverFigures(
  pid: number,
  before: TreeSample,
  after: TreeSample,
  heldMs: number,
  meanCalls: number,
) {
  const cpu = after.cpuMs - before.cpuMs;
  return {
    pid,
    processes: after.processes,
    cores: cpu / heldMs,
    msPerCallSecond: meanCalls > 0 ? cpu / (meanCalls * (heldMs / 1000)) : null,
    rssMiB: after.rssMiB,
  };
}

function sample(pid: number | null): TreeSample | null {
  if (pid === null) return null;
  try {
    return sampleTree(pid);
  } catch {
    return null; // The server's process is gone, or not ours to read.
  }
}

/** Waits `ms`, or less when the run is stopped. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    // Stopped: the caller checks the signal.
  }
}

/** The server's process when --url is on this machine and its listening socket can be seen; else null. */
function serverPid(url: string): number | null {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const local =
    host === 'localhost' ||
    /^127\./.test(host) ||
    Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === host));
  if (!local) return null;
  try {
    return findListeningPid(Number(u.port || (u.protocol === 'https:' ? 443 : 80)));
  } catch {
    return null;
  }
}
