/** What `switchboard load` reports for each step: the figures, a readable table, and the JSON for scripts. */
import type { Percentiles } from './statistics.ts';

/** The bound the targets use for a turn answered in time. */
export const ANSWER_TARGET_MS = 1500;
/** Past this p99 of its own event-loop delay in a step, the generator's figures describe itself, not the server. */
export const LOOP_DELAY_WARN_MS = 25;

export interface ServerFigures {
  pid: number;
  /** Processes in the server's tree at the end of the hold (the process, its workers and engine children). */
  processes: number;
  /** CPU used over the hold, in cores (1 = one core busy all the time). */
  cores: number;
  /** CPU per second of each streaming call, in ms; null without streaming calls. */
  msPerCallSecond: number | null;
  /** Resident memory of all the server's processes at the end of the hold, in MiB. */
  rssMiB: number;
}

export interface StepReport {
  step: number;
  /** Concurrent calls this step aimed for. */
  target: number;
  /** Calls placed during this step's ramp, and how their placing ended. */
  placed: number;
  connected: number;
  refused: number;
  failed: number;
  /** Why calls were refused or failed, with how many each (`HTTP 503`, `busy message`, ...). */
  notConnected: Record<string, number>;
  /** Calls streaming at the end of the hold, from this and earlier steps. */
  active: number;
  /** Calls the server ended during this step. */
  endedByServer: number;
  holdSeconds: number;
  /** False when the run was stopped during this step's hold: its figures cover the part held. */
  complete: boolean;
  turns: {
    total: number;
    answered: number;
    /** End of the caller's speech to first agent audio, answered turns only, ms. */
    latencyMs: Percentiles;
    /** Share of all turns answered within ANSWER_TARGET_MS; null without turns. */
    withinTarget: number | null;
  };
  /**
   * Gaps between agent frames inside a prompt: how many, their p99, and how many were over 60 ms; stalls: breaks
   * the caller heard (playout ran dry) over 60 ms, and the longest break.
   */
  agentAudio: {
    frameGaps: number;
    jitterP99Ms: number | null;
    lateGaps: number;
    stalls: number;
    longestBreakMs: number;
  };
  server: ServerFigures | null;
  generatorLoopDelayP99Ms: number;
  warning: string | null;
}

export interface LoadResult {
  url: string;
  steps: StepReport[];
  /** Why the run ended before its last step: 'max-seconds', or the failure in words; null when it completed. */
  stopped: string | null;
  /**
   * Media frames over the whole run, every call together: sent by the callers, and agent frames they received.
   * Compared with the server's own counts (its "call ended" lines), they show whether anything was lost.
   */
  frames: { sent: number; received: number };
}

const fmt = (n: number | null, digits = 0): string => (n === null ? '-' : n.toFixed(digits));
const pct = (share: number | null): string => (share === null ? '-' : `${(share * 100).toFixed(1)}%`);

/** A step as a few aligned lines a person can read. */
export function formatStep(r: StepReport): string {
  const t = r.turns;
  const l = t.latencyMs;
  const rows: [string, string][] = [
    [
      'calls',
      `${r.placed} placed: ${r.connected} connected, ${r.refused} refused, ${r.failed} failed; ` +
        `${r.active} streaming at the end, ${r.endedByServer} ended by the server`,
    ],
    ...(Object.keys(r.notConnected).length === 0
      ? []
      : [
          [
            'not connected',
            Object.entries(r.notConnected)
              .map(([why, n]) => `${why} (${n})`)
              .join(', '),
          ] as [string, string],
        ]),
    [
      'turns',
      `${t.answered}/${t.total} answered (${pct(t.total === 0 ? null : t.answered / t.total)}), ` +
        `${pct(t.withinTarget)} within ${ANSWER_TARGET_MS / 1000} s`,
    ],
    [
      'latency',
      `p50 ${fmt(l.p50)} ms  p95 ${fmt(l.p95)} ms  p99 ${fmt(l.p99)} ms (end of speech to agent audio)`,
    ],
    [
      'agent audio',
      `jitter p99 ${fmt(r.agentAudio.jitterP99Ms)} ms over ${r.agentAudio.frameGaps} frame gaps ` +
        `(${r.agentAudio.lateGaps} over 60 ms), ${r.agentAudio.stalls} stalls (breaks heard over 60 ms; ` +
        `longest ${r.agentAudio.longestBreakMs} ms)`,
    ],
  ];
  const s = r.server;
  rows.push([
    'server',
    s === null
      ? 'not measured (not on this machine; give --pid when it is)'
      : `${fmt(s.cores, 2)} cores, ${fmt(s.msPerCallSecond, 2)} ms CPU per call-second, ${fmt(s.rssMiB)} MiB RSS ` +
        `(pid ${s.pid}, ${s.processes} processes)`,
  ]);
  rows.push(['generator', `event loop delay p99 ${fmt(r.generatorLoopDelayP99Ms, 1)} ms`]);
  const stopped = r.complete ? '' : ' (stopped early)';
  const head = `step ${r.step}: ${r.target} calls, held ${fmt(r.holdSeconds, 1)} s${stopped}`;
  const body = rows.map(([k, v]) => `  ${k.padEnd(14)} ${v}`);
  return [head, ...body, ...(r.warning ? [`  WARNING        ${r.warning}`] : [])].join('\n');
}

/** The loop-delay warning for a step, or null when the generator kept up. */
export function loopDelayWarning(p99Ms: number): string | null {
  if (p99Ms <= LOOP_DELAY_WARN_MS) return null;
  return (
    `the load generator's own event loop was late (p99 ${p99Ms.toFixed(1)} ms, over ${LOOP_DELAY_WARN_MS} ms): ` +
    'these figures measure the generator, not the server; run fewer calls or run it on another machine'
  );
}

/** The whole run as one line of JSON. */
export function formatJson(result: LoadResult): string {
  return JSON.stringify(result);
}
