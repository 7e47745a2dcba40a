/** `hangup`: end the call once the state's prompt has played. */
import type { FlowAction } from './action.ts';
import type { HangupEffect } from './format/hangup.ts';
export type { HangupFields, HangupEffect } from './format/hangup.ts';

export const HANGUP_EFFECT: HangupEffect = { type: 'hangup' };

export const hangup: FlowAction = {
  name: 'hangup',
  keys: ['hangup'],
  example: { say: 'Goodbye.', hangup: true },

  schema: ({ hangsUp, waiting, has }) => ({
    exit: hangsUp,
    exitText: '"hangup": true',
    state: [
      {
        description: 'A state that hangs up cannot also wait for input.',
        if: hangsUp,
        then: { not: { anyOf: waiting.map(has) } },
      },
    ],
  }),

  ends: (def) => def.hangup === true,
  // A mistyped hangup is reported by its own check; calling it a dead end too would only repeat that.
  leaves: (state) =>
    state.hangup !== undefined && (state.hangup === true || typeof state.hangup !== 'boolean'),

  validate({ state, at, error }) {
    if (state.hangup !== undefined && typeof state.hangup !== 'boolean') {
      error(`${at}/hangup`, 'hangup must be true or false');
    }
  },

  combine({ state, at, waits, error }) {
    // A transfer that also hangs up is reported by the transfer.
    if (state.hangup === true && waits && state.transfer === undefined) {
      error(`${at}/hangup`, 'a state that hangs up cannot also wait for input');
    }
  },

  after(def, step) {
    if (def.hangup) step.emit(HANGUP_EFFECT);
  },

  describe: {
    hangup: () => ({ kind: 'event', title: 'agent hangs up', detail: null }),
  },

  run: {
    hangup: (_effect, ports) => ports.afterAudio(() => ports.hangup('flow ended the call')),
  },

  journalKeys: {
    hangup: (_effect, callId) => `${callId}:hangup`,
  },

  drawState(def, draw) {
    if (def.hangup !== true) return false;
    draw.node('hangup', ['hangup']);
    return true;
  },
};
