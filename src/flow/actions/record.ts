/**
 * `record`: record the call, once the caller has heard that it is; and `sensitive`: states left out of the
 * recording. A state's `record` (or the flow's own, for the call's first state) says its consent line on
 * entering, before the state's prompt, then asks for the recording to start once the line has been heard; a
 * call has one recording. Entering a sensitive state pauses a running recording before anything is said there,
 * and entering one that is not resumes it. The runner's answers (`record.started`, `record.failed`) are heard in
 * any state and only change the context: a failed start leaves the call unrecorded, so a later `record` state
 * may try again.
 */
import { CALL_PREFIX } from '../call-info.ts';
import { BOOT_STATE } from '../routing.ts';
import { ENV_PREFIX, templateSlots } from '../template.ts';
import type { FlowAction, Step } from './action.ts';
import type { RecordAction } from './format/record.ts';
export type { RecordAction, RecordEffect, RecordFields, RecordOutcome } from './format/record.ts';

const CONSENT_HINT = 'e.g. "This call is recorded for quality and training."';

/** Ask the runner to start, pause or resume the recording, under an id of the state's. */
function ask(step: Step, action: RecordAction): void {
  step.emit({ type: 'record', id: step.nextId(), action });
}

export const record: FlowAction = {
  name: 'record',
  keys: ['record', 'sensitive'],
  flowKeys: ['record'],
  example: {
    record: 'This call is recorded for quality and training.',
    say: 'How can I help?',
    next: 'menu',
  },

  schema: ({ has }) => ({
    state: [
      {
        description: 'A sensitive state cannot start the recording: it would pause it at once.',
        if: { required: ['sensitive'], properties: { sensitive: { const: true } } },
        then: { not: has('record') },
      },
    ],
  }),

  validate({ state, at, error, template }) {
    if (state.record !== undefined) {
      if (typeof state.record !== 'string' || state.record.trim() === '')
        error(`${at}/record`, 'record must be the consent line, non-empty text', CONSENT_HINT);
      else template(state.record, `${at}/record`);
    }
    if (state.sensitive !== undefined && typeof state.sensitive !== 'boolean')
      error(`${at}/sensitive`, 'sensitive must be true or false');
  },

  combine({ state, at, error }) {
    if (state.record === undefined || state.sensitive !== true) return;
    error(
      `${at}/record`,
      'a sensitive state cannot start the recording: it would pause it at once',
      'say the consent line in an earlier state, or with the flow\'s own "record"',
    );
  },

  validateFlowKeys(flow, { error, template }) {
    const line = flow.record;
    if (line === undefined) return;
    if (typeof line !== 'string' || line.trim() === '') {
      error('/record', "the flow's record must be the consent line, non-empty text", CONSENT_HINT);
      return;
    }
    // Said on entering the first state, before any slot can have been stored.
    const slots = templateSlots(line)
      .map(({ name }) => name)
      .filter((name) => !name.startsWith(ENV_PREFIX) && !name.startsWith(CALL_PREFIX));
    for (const slot of new Set(slots)) {
      error(
        '/record',
        `the flow's record line is said as the call starts, before slot "${slot}" is stored`,
        'it may read {{env.NAME}} and {{call.NAME}}; or give a later state the "record"',
      );
    }
    if (slots.length === 0) template(line, '/record');
  },

  flowKeyReads: (flow) =>
    flow.record === undefined
      ? []
      : [{ pointer: '/record', text: flow.record, moment: 'entry', spoken: true }],

  reads: (def, at) => [{ pointer: `${at}/record`, text: def.record, moment: 'state', spoken: true }],

  enter(def, step) {
    const { ctx } = step;
    let recording = ctx.recording;
    // The flow's own line belongs to the call's first state, as if that state had `record`.
    const line = def.record ?? (ctx.state === BOOT_STATE ? step.flow.record : undefined);
    if (line !== undefined && recording === undefined) {
      step.say(step.render(line));
      ask(step, 'start');
      recording = 'on';
    }
    // Before anything the state says: a caller keying a card number after its prompt is not recorded.
    if (def.sensitive === true && recording === 'on') {
      ask(step, 'pause');
      recording = 'paused';
    } else if (def.sensitive !== true && recording === 'paused') {
      ask(step, 'resume');
      recording = 'on';
    }
    if (recording !== ctx.recording) step.note({ recording });
  },

  outcomes: {
    'record.started': (_ctx, event) => (typeof event.sid === 'string' ? { recordingSid: event.sid } : {}),
    // A failed pause or resume changes nothing here: the runner has logged it, and the call goes on.
    'record.failed': (_ctx, event) =>
      event.action === 'start' ? { recording: undefined, recordingSid: undefined } : {},
  },

  describe: {
    record: (_m, text) => ({ kind: 'event', title: `recording ${text('action')} asked for`, detail: null }),
    // A recording's SID names it in Twilio's console; it is none of the caller's data.
    'record.started': (_m, text) => ({ kind: 'event', title: 'recording started', detail: text('sid') }),
    'record.failed': (_m, text) => ({
      kind: 'event',
      title: `recording ${text('action')} failed`,
      detail: text('reason'),
    }),
  },

  run: {
    record: (effect, ports) => {
      if (effect.type !== 'record') return;
      const { id, action } = effect;
      // The context notes the recording on (or paused) when the effect is asked for: a consent line or prompt
      // the caller cuts short must not leave the call recorded when it says otherwise, or the other way round.
      const evenIfCleared = true;
      ports.afterAudio(
        async () => {
          try {
            const started = await ports.record(action);
            if (action === 'start' && started !== null) {
              ports.deliver({ type: 'record.started', at: ports.now(), id, sid: started.sid });
            }
          } catch (err) {
            if (ports.stopped()) return;
            // An error, whatever the action: a failed pause leaves what the caller says next on the recording.
            ports.log.error('recording request failed', { err, id, action });
            const reason = err instanceof Error ? err.message : String(err);
            ports.deliver({ type: 'record.failed', at: ports.now(), id, action, reason });
          }
        },
        { evenIfCleared },
      );
    },
  },

  journalKeys: {
    record: (effect, callId) => `${callId}:${effect.id}`,
  },

  tallies: [
    { counts: { event: 'record.started' }, thing: 'recording', what: 'started' },
    { counts: { event: 'record.failed' }, thing: 'recording request', what: 'failed' },
  ],

  notes: (def) => [
    ...(def.record === undefined ? [] : ['record']),
    ...(def.sensitive === true ? ['sensitive'] : []),
  ],
};
