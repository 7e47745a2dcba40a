/**
 * Time from a fault to recovery, from the callers' side: for each call the fault affected (held by the instance
 * it hit, or every live call for a database fault), how long the caller was left waiting because of it. The
 * wait starts at the fault, or at the caller's key after it when the agent was still talking then (a caller
 * listening to a prompt is not waiting). It ends when the caller hears the agent again, on the same stream or a
 * new one. The simulated caller records a stretch of agent audio only once its mark is echoed, so a resume
 * prompt cut by the next fault before its mark is seen through its stream instead: one that lasted over a second
 * counts as recovered when it opened (its prompt starts within ~100 ms). A call with neither that still
 * completed (its last prompt was already playing) is not a failure; one that did not complete never recovered.
 */
import type { TimelineEvent } from '../../src/simulator/caller.ts';
import { completed, type CallRun } from './callers.ts';

/** One fault as injected. */
export interface FaultRecord {
  n: number;
  kind: string;
  /** What was hit: an instance's writer name, or 'postgres'. */
  target: string;
  /** performance.now() when the fault began (for clock-step: the kill that moves calls across the skew). */
  at: number;
  /** Date.now() then, to compare with the servers' log times. */
  wall: number;
  /** How long the fault lasted until healed (ms), or null when instantaneous (a kill). */
  heldMs: number | null;
  /** Calls it affected. */
  affected: string[];
  /** Anything worth printing about it (restart time, clock offset, ...). */
  detail: string;
}

export interface Recovery {
  /** Fault-to-next-audio times (ms), one per affected call that heard the agent again. */
  times: number[];
  /** Affected calls that completed with no agent audio after the fault. */
  completedSilently: number;
  notRecovered: string[];
  slowest: { took: number; text: string }[];
}

export function recoveries(faults: readonly FaultRecord[], runs: readonly CallRun[]): Recovery {
  const bySid = new Map<string, CallRun>();
  for (const r of runs) if (r.result) bySid.set(r.result.callSid, r);
  const out: Recovery = { times: [], completedSilently: 0, notRecovered: [], slowest: [] };
  for (const fault of faults) {
    for (const callId of fault.affected) {
      const r = bySid.get(callId);
      if (!r) {
        out.notRecovered.push(`${fault.kind} ${fault.n}: ${callId}: no result from its caller`);
        continue;
      }
      const at = (e: TimelineEvent): number => r.startAt + e.t;
      // The caller's key after the fault, before the agent next spoke: the wait starts there.
      const firstAudio = r.timeline.find((e) => e.kind === 'agent' && at(e) > fault.at);
      const keys = r.timeline.filter(
        (e) => e.kind === 'dtmf' && at(e) > fault.at && (firstAudio === undefined || e.t < firstAudio.t),
      );
      const waitFrom = keys.length === 0 ? fault.at : at(keys.at(-1)!);
      const audio = r.timeline.find((e) => e.kind === 'agent' && at(e) > waitFrom);
      const stream = cutStreamAfter(r.timeline, waitFrom - r.startAt);
      const back = [audio, stream].filter((e) => e !== undefined).sort((a, b) => a.t - b.t)[0];
      if (back === undefined) {
        if (completed(r)) out.completedSilently += 1;
        else
          out.notRecovered.push(`${fault.kind} ${fault.n}: call ${r.i} (${callId}): no agent audio after it`);
        continue;
      }
      const took = at(back) - waitFrom;
      out.times.push(took);
      const streams = r.timeline.filter(
        (e) => e.kind === 'stream' && e.event === 'open' && r.startAt + e.t > fault.at,
      ).length;
      const what = back.kind === 'agent' ? `agent audio ${back.mark || '(cleared)'}` : 'a stream cut again';
      out.slowest.push({
        took,
        text: `${took.toFixed(0)} ms: call ${r.i} (${callId}), ${fault.kind} ${fault.n} on ${fault.target}: ${streams} new stream(s); back with ${what}`,
      });
    }
  }
  out.slowest.sort((a, b) => b.took - a.took);
  out.slowest.splice(5);
  return out;
}

/**
 * The first stream opened after `t` (the call's ms) that lasted over a second but closed before any agent audio
 * was recorded on it: its resume prompt was cut before its mark, so its opening is the best sign of recovery.
 */
function cutStreamAfter(timeline: readonly TimelineEvent[], t: number): TimelineEvent | undefined {
  for (const [i, e] of timeline.entries()) {
    if (e.kind !== 'stream' || e.event !== 'open' || e.t <= t) continue;
    const rest = timeline.slice(i + 1);
    const closed = rest.find((x) => x.kind === 'stream' && x.event === 'closed');
    const audio = rest.find((x) => x.kind === 'agent');
    if (closed && closed.t - e.t > 1000 && (!audio || audio.t > closed.t)) return e;
  }
  return undefined;
}

/**
 * From the servers' side, for kills: from the kill to an instance's 'first agent audio sent' on the call's next
 * stream (the servers' log times; this machine's clock, not stepped in a kill phase).
 */
export function serverRecoveries(
  faults: readonly FaultRecord[],
  firstAudioSent: ReadonlyMap<string, readonly number[]>,
): number[] {
  return faults.flatMap((fault) =>
    fault.affected.flatMap((callId) => {
      const sent = (firstAudioSent.get(callId) ?? []).find((t) => t >= fault.wall);
      return sent === undefined ? [] : [sent - fault.wall];
    }),
  );
}
