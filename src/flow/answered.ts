/**
 * The `answered` event: who answered an outbound call, as Twilio's answering-machine detection reports it, at any
 * time during the call. The answer is kept in `call.answeredBy`. When a machine's greeting is over and the flow
 * names a state for it (`"on": { "machine": "voicemail" }`), the call leaves whatever state it is in for that
 * one, once: a later report that a machine answered (a second callback, a beep after the silence) leaves the
 * message being said alone. Everything read comes from the event and the context, so a replay decides the same.
 */
import { INBOUND_CALL, isAnsweredBy, isMachineEnd, type CallInfo } from './call-info.ts';
import type { CallContext, CallEvent } from './events.ts';
import { BOOT_STATE, GIVE_UP_STATE } from './routing.ts';
import type { FlowFile } from './types.ts';

/**
 * Whether the call hears answers now: not before `call.start` (nothing of the call is known yet), and the
 * ended machine hears nothing at all.
 */
export function hearsAnswers(ctx: CallContext): boolean {
  return ctx.state !== BOOT_STATE;
}

/**
 * The call with the answer kept, a new object; undefined when there is nothing to keep (an answer this build
 * does not know, read from a journal written by another).
 */
export function answeredCall(ctx: CallContext, event: CallEvent): CallInfo | undefined {
  if (event.type !== 'answered' || !isAnsweredBy(event.answeredBy)) return undefined;
  return { ...(ctx.call ?? INBOUND_CALL), answeredBy: event.answeredBy };
}

/**
 * The state `event` sends the call to: the flow's `on.machine` when a machine's greeting is over and no earlier
 * answer said so; else undefined, and the call stays where it is. A call the supervisor gave up on, or already
 * in that state, stays too.
 */
export function machineTarget(flow: FlowFile, ctx: CallContext, event: CallEvent): string | undefined {
  const target = flow.on?.machine;
  if (target === undefined || event.type !== 'answered' || !isMachineEnd(event.answeredBy)) return undefined;
  if (isMachineEnd(ctx.call?.answeredBy)) return undefined;
  if (!hearsAnswers(ctx) || ctx.state === GIVE_UP_STATE || ctx.state === target) return undefined;
  return target;
}
