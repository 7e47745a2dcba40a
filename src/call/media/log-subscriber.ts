/** A call's events as log lines: fixed wording, varying values in fields, personal data only under `pii`. */
import { spokenPrompt } from '../../flow/index.ts';
import type { LogGate, Logger } from '../../observability/logger.ts';
import { FRAME_IN, FRAME_OUT, type SessionEvent, type SessionSubscriber } from './session-events.ts';

/**
 * Logs to `logger()`, read at each event: the session binds the call's ids to its logger once it knows them. A
 * stream rejected before it attached to a call logs its rejection and its end through `unattached`, when given.
 */
export function logSubscriber(logger: () => Logger, unattached?: LogGate): SessionSubscriber {
  // A flood of marks never sent logs the first few, then is counted in the call's last line.
  let unknownMarks = 0;
  let attached = false;
  return (event: SessionEvent) => {
    // 50 a second per call, and never logged.
    if (event === FRAME_IN || event === FRAME_OUT) return;
    let log = logger();
    if (event.type === 'conversation.attached') attached = true;
    const rejected =
      event.type === 'stream.rejected' || (event.type === 'call.ended' && event.reason === 'bad input');
    if (rejected && !attached && unattached) log = log.gated(unattached);
    switch (event.type) {
      case 'call.started':
        log.info('call started', {
          flowVersion: event.flowVersion,
          modelVersion: event.modelVersion,
          tracks: event.tracks,
        });
        return;
      case 'call.resumed': {
        const { type: _type, ...fields } = event;
        log.info('call resumed from its journal', fields);
        return;
      }
      case 'audio.first':
        log.info('first agent audio sent', { msSinceStart: event.msSinceStart });
        return;
      case 'key.pressed':
        log.info('dtmf received', { pii: { digit: event.digit } });
        return;
      case 'key.dropped':
        // The first only: the rest are counted in `keysDropped` when the call ends.
        if (event.dropped === 1)
          log.warn('keys dropped: pressed faster than a caller can', { code: 'DTMF_FLOOD' });
        return;
      case 'event.dropped':
        log.warn('event dropped while the call was attaching', { event: event.event });
        return;
      case 'effect': {
        const prompt = spokenPrompt(event.effect);
        if (prompt) log.debug('prompt requested', { mark: prompt.mark, pii: { text: prompt.text } });
        return;
      }
      case 'conversation.done':
        log.debug('conversation reached its end');
        return;
      case 'speech.started':
        log.debug('caller speech started', { agentSpeaking: event.agentSpeaking });
        return;
      case 'nlu.shadow': {
        const { version, state, live, shadow, outcome, ms } = event.verdict;
        const fields = {
          shadowVersion: version,
          state,
          intent: live.intent,
          confidence: round(live.confidence),
          shadowIntent: shadow?.intent ?? null,
          shadowConfidence: shadow === null ? null : round(shadow.confidence),
          outcome,
          ms: round(ms),
        };
        if (outcome === 'disagree') log.info('shadow model understood the turn differently', fields);
        else if (outcome === 'failed') log.warn('shadow model failed on the turn', fields);
        // Agreement, or a shadow too far behind to be asked (counted in /metrics): routine.
        else log.debug('shadow model compared', fields);
        return;
      }
      case 'turn.heard':
        log.info('caller heard', {
          intent: event.intent,
          confidence: event.confidence,
          sttConfidence: event.sttConfidence,
          pii: { text: event.text, entities: event.entities },
        });
        return;
      case 'turn.latency':
        log.info('turn latency', {
          silenceWindowMs: event.silenceMs,
          transcriptMs: event.transcriptMs,
          decisionMs: event.decisionMs,
          firstAudioMs: event.firstAudioMs,
          endOfTurnToAudioMs: event.endOfTurnMs,
          speechEndToAudioMs: event.speechEndToAudioMs,
        });
        return;
      case 'prompt.echo':
        if (event.outcome === 'heard') log.debug('prompt heard', { mark: event.mark });
        else if (event.outcome === 'cleared') log.debug('prompt interrupted', { mark: event.mark });
        else if (++unknownMarks <= UNKNOWN_MARKS_LOGGED)
          log.warn('mark echo for a mark never sent', { mark: event.mark });
        return;
      case 'audio.cleared':
        log.debug('audio cleared', {
          marksInterrupted: event.marksInterrupted,
          marksDropped: event.marksDropped,
        });
        return;
      case 'prompt.cut':
        // Prompts can hold the caller's data (a number read back), so the words go in the redactable field.
        log.info('prompt cut short', {
          playedMs: event.playedMs,
          promptMs: event.promptMs,
          pii: { heard: event.heard },
        });
        return;
      case 'barge-in':
        log.info('barge-in: the caller spoke over the prompt', {
          state: event.state,
          marksInterrupted: event.marksInterrupted,
        });
        return;
      case 'stream.rejected':
        log.error('media stream rejected', { code: event.code, err: event.err, ...withoutPii(event.data) });
        return;
      case 'call.ended':
        log.info('call ended', {
          reason: event.reason,
          ...event.fields,
          durationMs: event.durationMs,
          framesIn: event.framesIn,
          framesOut: event.framesOut,
          outOfOrderFrames: event.outOfOrderFrames,
          gapFilledFrames: event.gapFilledFrames,
          keysDropped: event.keysDropped,
          unknownMarks,
          state: event.state,
        });
        return;
      default:
        return;
    }
  };
}

const UNKNOWN_MARKS_LOGGED = 3;

/** Protocol error data can echo caller ids; keep only the field names that are safe to log as text. */
function withoutPii(data: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { event, field, flow } = data;
  return { event, field, flow };
}

const round = (n: number): number => Math.round(n * 1000) / 1000;
