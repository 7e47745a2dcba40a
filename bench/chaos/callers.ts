/**
 * The simulated callers of a chaos run: pizza orders by keypad, placed through the balancer, each answering the
 * question it last heard (so a question asked again after a fault gets its answer again). When a call is over,
 * Twilio's `completed` status callback is posted for it, as Twilio would, so the server can close a journal no
 * instance holds. Each call's own record (its timeline and result) is what the checker compares the journals to.
 */
import {
  placeCall,
  type CallerInput,
  type SimulatedCallResult,
  type TimelineEvent,
} from '../../src/simulator/caller.ts';

/** The pizza flow answered by state. */
const ANSWERS: Record<string, string> = { greet: '1', size: '3', count: '4#', confirm: '1' };
const answerFor = (state: string): CallerInput | undefined =>
  ANSWERS[state] === undefined ? undefined : { kind: 'dtmf', keys: ANSWERS[state] };

/** The pizza flow's states in the order a keypad order goes through them: "later" means further along. */
export const ORDER = ['greet', 'size', 'count', 'confirm', 'place', 'deal', 'discount', 'placed'];
export const stateOfMark = (mark: string): string => mark.slice(0, Math.max(0, mark.lastIndexOf('.')));

export interface CallRun {
  i: number;
  /** performance.now() just before placeCall: the caller's timeline `t` counts from about here. */
  startAt: number;
  timeline: TimelineEvent[];
  result: SimulatedCallResult | null;
  error: string | null;
  /** Why the status callback could not be posted, when it could not. */
  statusError: string | null;
}

export const errText = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

/**
 * Place one call through `url`, recording it in `runs`; resolves when it is over and its status posted. The
 * caller answers `thinkMs` after a prompt ends: the no-input timer is armed for that long each turn.
 */
export async function placeOne(
  i: number,
  url: string,
  runs: CallRun[],
  signal: AbortSignal,
  thinkMs: number,
): Promise<void> {
  const run: CallRun = {
    i,
    startAt: performance.now(),
    timeline: [],
    result: null,
    error: null,
    statusError: null,
  };
  runs.push(run);
  try {
    run.result = await placeCall({
      url,
      flow: 'pizza',
      answerFor,
      thinkMs,
      idleHangupMs: 4000,
      maxDurationMs: 150_000,
      signal,
      onEvent: (event) => run.timeline.push(event),
    });
  } catch (err) {
    run.error = errText(err);
  }
  if (run.result !== null) run.statusError = await postCompleted(url, run.result.callSid);
}

/** Twilio's status callback for a call that is over; null when answered, else why not. */
async function postCompleted(url: string, callSid: string): Promise<string | null> {
  try {
    const res = await fetch(`${url}/twilio/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        CallSid: callSid,
        CallStatus: 'completed',
        SequenceNumber: '9',
      }).toString(),
      signal: AbortSignal.timeout(15_000),
    });
    await res.text();
    return res.ok ? null : `HTTP ${res.status}`;
  } catch (err) {
    return errText(err);
  }
}

/** Resolves once the call has its result (or failed). */
export async function settled(run: CallRun): Promise<void> {
  while (run.result === null && run.error === null) await new Promise((r) => setTimeout(r, 100));
}

/** The agent placed the order and ended the call. */
export const completed = (r: CallRun): boolean =>
  r.result?.endedBy === 'agent' && r.timeline.some((e) => e.kind === 'agent' && e.mark.startsWith('placed.'));

/** Media streams the call had: two or more means it was resumed. */
export const streamsOf = (r: CallRun): number =>
  r.timeline.filter((e) => e.kind === 'stream' && e.event === 'open').length;

/** Why a call did not complete, in a few words. */
export function whyFailed(r: CallRun): string {
  if (r.error !== null) return `exception: ${r.error}`;
  if (r.result === null) return 'did not finish (still running when the run stopped)';
  const res = r.result;
  const parts = [
    `ended by ${res.endedBy}`,
    `close code ${res.closeCode ?? '-'}`,
    `${streamsOf(r)} stream(s)`,
    `last prompt ${res.marks.at(-1) ?? '(none)'}`,
  ];
  if (res.actionError !== null) parts.unshift(`action URL failed: ${res.actionError}`);
  return parts.join(', ');
}

/**
 * fetch keeps connections to the balancer alive and reuses them across calls, and the TCP balancer pins each
 * connection to the instance it first reached: after a kill, a request sent on a kept-alive connection that was
 * piped to the dead instance fails ("other side closed") although the survivor would have answered it. Twilio
 * and an HTTP-aware proxy have no such pinned connections, so such a request is sent once more, on a fresh
 * connection, and listed. Only requests that may be repeated: the `<Connect action>` (it only reads) and the
 * status callback; a voice webhook may have admitted its call before its connection was cut, so it is not.
 */
export function retryPinnedRequests(): string[] {
  const retries: string[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    try {
      return await realFetch(input, init);
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      if (init?.signal?.aborted || !(err instanceof TypeError) || cause === undefined) throw err;
      const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
      if (path.endsWith('/twilio/voice')) throw err;
      retries.push(`${new Date().toISOString()} ${path}: ${cause.code ?? ''} ${cause.message ?? ''}`);
      return realFetch(input, init);
    }
  };
  return retries;
}
