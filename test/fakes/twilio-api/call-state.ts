/**
 * A call as the fake holds it, and the queue its steps go through: each call's steps (and so its webhooks) run
 * one after another, so their order is deterministic, and ending the call cuts short whatever step is waiting.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventLog } from './events.ts';
import type { AnsweredBy, FakeCallStatus, FakeRecording } from './types.ts';

export interface CallState {
  sid: string;
  to: string;
  from: string;
  params: URLSearchParams;
  url: string | null;
  method: 'GET' | 'POST';
  inlineTwiml: string | null;
  statusCallback: string | null;
  statusCallbackMethod: 'GET' | 'POST';
  events: Set<string>;
  machineDetection: string | null;
  asyncAmd: boolean;
  amdCallback: string | null;
  amdCallbackMethod: 'GET' | 'POST';
  status: FakeCallStatus;
  answeredBy: AnsweredBy | null;
  twiml: string[];
  recordings: FakeRecording[];
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  answeredAt: Date | null;
  endedAt: Date | null;
  sequence: number;
  /** Aborted when the call ends: cuts short whatever step of placing it is waiting. */
  stop: AbortController;
  /** The call's steps, in order. */
  chain: Promise<void>;
}

/** Runs the next step of a call after the ones before it; a step that throws is an 'error' event. Never rejects. */
export function enqueue(call: CallState, events: EventLog, step: () => Promise<void>): Promise<void> {
  call.chain = call.chain
    .then(step)
    .catch((error: unknown) => events.emit({ type: 'error', callSid: call.sid, error }));
  return call.chain;
}

/** Waits `ms` unless the call ends first; true when it is still going. */
export async function waitWhileLive(call: CallState, ms: number): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal: call.stop.signal });
  } catch {
    // Aborted: the call ended (or the fake is closing).
  }
  return !call.stop.signal.aborted;
}
