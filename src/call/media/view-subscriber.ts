/**
 * A call's events as events of its live view (call-view.ts), for a call opened for viewing: the session subscribes
 * this only then, so a phone call's words never reach a view.
 */
import { spokenPrompt } from '../../flow/index.ts';
import type { CallViews } from '../call-view.ts';
import { KeypadTurns } from '../keypad-turns.ts';
import type { SessionEvent, SessionSubscriber } from './session-events.ts';

export function viewSubscriber(views: CallViews, callId: string): SessionSubscriber {
  const keypad = new KeypadTurns();
  return (event: SessionEvent, at: number) => {
    switch (event.type) {
      case 'state.entered':
        views.publish(callId, { type: 'state', at, state: event.state, slots: event.slots });
        return;
      case 'event.delivered':
        if (event.event.type === 'dtmf') views.publish(callId, keypad.pressed(event.event.digit, at));
        return;
      case 'step.settled': {
        const turn = keypad.handled(event.event, event.context, at);
        if (turn) views.publish(callId, turn);
        return;
      }
      case 'effect': {
        const prompt = spokenPrompt(event.effect);
        if (prompt) views.publish(callId, { type: 'prompt', at, mark: prompt.mark, text: prompt.text });
        return;
      }
      case 'turn.hearing':
        views.publish(callId, { type: 'hearing', at, text: event.text });
        return;
      case 'turn.heard':
        views.publish(callId, {
          type: 'turn',
          at,
          via: 'speech',
          text: event.text,
          intent: event.intent,
          confidence: event.confidence,
        });
        return;
      case 'turn.latency':
        views.publish(callId, {
          type: 'latency',
          at,
          transcriptMs: event.transcriptMs,
          decisionMs: event.decisionMs,
          firstAudioMs: event.firstAudioMs,
          endOfTurnMs: event.endOfTurnMs,
          silenceMs: event.silenceMs,
        });
        return;
      case 'prompt.cut':
        views.publish(callId, {
          type: 'cut',
          at,
          mark: event.mark,
          heard: event.heard,
          playedMs: event.playedMs,
          promptMs: event.promptMs,
        });
        return;
      case 'call.ended':
        views.publish(callId, { type: 'ended', at, reason: event.reason });
        return;
      default:
        return;
    }
  };
}
