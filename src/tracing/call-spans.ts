/**
 * A call's events as spans: one span per stream of the call (call.live to call.ended), one per caller turn, and
 * under each turn one per stage, built when the turn's latency is known, with the times it reports: the silence
 * window that ended the turn, recognition, understanding and the decision, and synthesis to first audio.
 * Resumes, actor restarts, barge-ins and speech failovers are events of the call span. Transcripts, keys,
 * entities and prompts are personal data and never become attributes: only names the flow defines (states,
 * intents) and figures do.
 */
import { SpanKind, SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import type { SessionEvent, SessionSubscriber } from '../call/media/session-events.ts';
import type { CallTraces } from './call-traces.ts';

/** Attribute names, shared by the spans of calls, turns and journal appends. */
export const ATTR = {
  callId: 'switchboard.call.id',
  flow: 'switchboard.flow',
  flowVersion: 'switchboard.flow.version',
  resumed: 'switchboard.call.resumed',
  endReason: 'switchboard.call.end_reason',
  endState: 'switchboard.call.end_state',
  framesIn: 'switchboard.call.frames_in',
  framesOut: 'switchboard.call.frames_out',
  turn: 'switchboard.turn.index',
  turnState: 'switchboard.turn.state',
  intent: 'switchboard.turn.intent',
  intentConfidence: 'switchboard.turn.intent_confidence',
  sttConfidence: 'switchboard.turn.stt_confidence',
  answered: 'switchboard.turn.answered',
  bargeIn: 'switchboard.turn.barge_in',
  speechEndToAudioMs: 'switchboard.turn.speech_end_to_audio_ms',
} as const;

/** Span names: the call (one per stream), its turns, and the stages of a turn in order. */
export const SPAN = {
  call: 'call',
  turn: 'turn',
  endOfTurn: 'turn.end_of_turn',
  recognition: 'turn.recognition',
  decision: 'turn.decision',
  firstAudio: 'turn.first_audio',
} as const;

/** What is known of the caller's current turn before its latency arrives. */
interface TurnSoFar {
  speechAt: number | null;
  bargeIn: boolean;
  heard: { at: number; attributes: Attributes } | null;
}

/** The subscriber that traces one call (`callId`, running `flow`) on this stream. */
export function callSpans(traces: CallTraces, callId: string, flow: string): SessionSubscriber {
  let call: Span | null = null;
  let state: string | null = null;
  let turns = 0;
  let turn: TurnSoFar = { speechAt: null, bargeIn: false, heard: null };

  /** A turn heard but never answered with audio (the call ended, or the caller spoke again). */
  const unanswered = (): void => {
    const heard = turn.heard;
    if (call === null || heard === null) return;
    turns += 1;
    const span = traces.child(call, SPAN.turn, {
      startTime: new Date(turn.speechAt ?? heard.at),
      attributes: {
        ...heard.attributes,
        [ATTR.turn]: turns,
        [ATTR.answered]: false,
        [ATTR.bargeIn]: turn.bargeIn,
      },
    });
    span.end(new Date(heard.at));
    turn = { speechAt: null, bargeIn: false, heard: null };
  };

  return (event: SessionEvent, at: number) => {
    switch (event.type) {
      case 'call.live':
        call = traces.root(callId, SPAN.call, {
          kind: SpanKind.SERVER,
          startTime: new Date(at),
          attributes: { [ATTR.callId]: callId, [ATTR.flow]: flow },
        });
        traces.live(callId, call);
        return;
      case 'call.started':
        call?.setAttributes({ [ATTR.flowVersion]: event.flowVersion, [ATTR.resumed]: false });
        return;
      case 'call.resumed':
        call?.setAttributes({ [ATTR.flowVersion]: event.flowVersion, [ATTR.resumed]: true });
        call?.addEvent(
          'call.resumed',
          {
            'switchboard.journal.records': event.records,
            'switchboard.journal.replayed_events': event.replayedEvents,
            'switchboard.journal.timers_rearmed': event.timersRearmed,
            'switchboard.journal.lease_token': event.leaseToken,
            [ATTR.turnState]: event.state,
          },
          new Date(at),
        );
        return;
      case 'actor.restarted':
        call?.addEvent('actor.restarted', {}, new Date(at));
        return;
      case 'state.entered':
        state = event.state;
        return;
      case 'speech.started':
        unanswered();
        turn = { speechAt: at, bargeIn: false, heard: null };
        return;
      case 'barge-in':
        turn.bargeIn = true;
        call?.addEvent(
          'barge-in',
          {
            ...(event.state === null ? {} : { [ATTR.turnState]: event.state }),
            'switchboard.marks_interrupted': event.marksInterrupted.length,
          },
          new Date(at),
        );
        return;
      case 'speech.failover':
        call?.addEvent(
          'speech.failover',
          { 'switchboard.speech.service': event.service, 'switchboard.speech.to': event.to },
          new Date(at),
        );
        return;
      case 'turn.heard':
        if (turn.heard !== null) unanswered();
        turn.heard = {
          at,
          attributes: {
            ...(state === null ? {} : { [ATTR.turnState]: state }),
            ...(event.intent === null ? {} : { [ATTR.intent]: event.intent }),
            [ATTR.intentConfidence]: event.confidence,
            ...(event.sttConfidence === null ? {} : { [ATTR.sttConfidence]: event.sttConfidence }),
          },
        };
        return;
      case 'turn.latency':
        if (call !== null) answered(traces, call, (turns += 1), turn, event, at);
        turn = { speechAt: null, bargeIn: false, heard: null };
        return;
      case 'stream.rejected':
        call?.setStatus({ code: SpanStatusCode.ERROR, message: event.code });
        return;
      case 'call.ended':
        if (call === null) return;
        unanswered();
        call.setAttributes({
          [ATTR.endReason]: event.reason,
          [ATTR.framesIn]: event.framesIn,
          [ATTR.framesOut]: event.framesOut,
          ...(event.state === null ? {} : { [ATTR.endState]: event.state }),
        });
        call.end(new Date(at));
        traces.ended(callId, call);
        call = null;
        return;
      default:
        return;
    }
  };
}

type Latency = Extract<SessionEvent, { type: 'turn.latency' }>;

/**
 * The span of a turn answered with audio at `at`, and its stages, placed back in time from the latency's
 * figures: speech ended, the silence window ran out (end of turn decided), the transcript came, the decision
 * was made, the first audio went out.
 */
function answered(
  traces: CallTraces,
  call: Span,
  index: number,
  turn: TurnSoFar,
  t: Latency,
  at: number,
): void {
  const speechEnd = at - t.speechEndToAudioMs;
  const endDecided = at - t.endOfTurnMs;
  const transcribed = endDecided + t.transcriptMs;
  const decided = transcribed + t.decisionMs;
  const start = turn.speechAt !== null && turn.speechAt <= speechEnd ? turn.speechAt : speechEnd;
  const span = traces.child(call, SPAN.turn, {
    startTime: new Date(start),
    attributes: {
      ...turn.heard?.attributes,
      [ATTR.turn]: index,
      [ATTR.answered]: true,
      [ATTR.bargeIn]: turn.bargeIn,
      [ATTR.speechEndToAudioMs]: t.speechEndToAudioMs,
    },
  });
  const stage = (name: string, from: number, to: number): void => {
    traces.child(span, name, { startTime: new Date(from) }).end(new Date(Math.max(from, to)));
  };
  stage(SPAN.endOfTurn, speechEnd, endDecided);
  stage(SPAN.recognition, endDecided, transcribed);
  stage(SPAN.decision, transcribed, decided);
  stage(SPAN.firstAudio, decided, at);
  span.end(new Date(at));
}
