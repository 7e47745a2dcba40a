/**
 * `transfer`: connect the caller to a number once the prompt has played; the caller leaves the flow. A transfer
 * that cannot be made is the event `transfer.failed`, which takes the state's `onError`.
 */
import { E164 } from '../../common/e164.ts';
import { IGNORE } from '../routing.ts';
import { templateSlots } from '../template.ts';
import type { FlowAction } from './action.ts';
import { ERROR_LABEL } from './action.ts';
import { failed } from './next.ts';
export type { TransferFields, TransferEffect, TransferOutcome } from './format/transfer.ts';

export const transfer: FlowAction = {
  name: 'transfer',
  keys: ['transfer'],
  events: ['transfer.failed'],
  example: { say: 'Connecting you to a pharmacist.', transfer: '{{env.PHARMACY_LINE}}', onError: 'sorry' },

  schema: ({ has, waiting, property }) => {
    // A number, or a template worked out when the call transfers.
    property('transfer').pattern = `${E164.source}|\\{\\{`;
    return {
      exit: has('transfer'),
      exitText: '"transfer"',
      state: [
        {
          description:
            'A transfer leaves the flow: no input, no "next", no "hangup"; a failure goes to "onError".',
          if: has('transfer'),
          then: { not: { anyOf: [...waiting, 'next', 'hangup'].map(has) } },
        },
      ],
    };
  },

  acts: (def) => def.transfer !== undefined,
  leaves: (state) => state.transfer !== undefined,

  validate({ state, at: stateAt, error, template }) {
    const to = state.transfer;
    if (to === undefined) return;
    const at = `${stateAt}/transfer`;
    if (typeof to !== 'string' || to.trim() === '') {
      error(
        at,
        'transfer must be a phone number or a template',
        'e.g. "+15555550100" or "{{env.SUPPORT_LINE}}"',
      );
      return;
    }
    if (templateSlots(to).length > 0) template(to, at);
    else if (!E164.test(to)) {
      error(
        at,
        'transfer must be an E.164 number: "+", the country code and the number, no spaces',
        'e.g. "+15555550100"',
      );
    }
  },

  combine({ state, at, waits, error }) {
    // With http as well, the transfer is refused there; its own rules would only add noise.
    if (state.transfer === undefined || state.http !== undefined) return;
    if (waits) error(`${at}/transfer`, 'a state that transfers the call cannot also wait for input');
    // The caller leaves the flow, so nothing can follow; a failure goes to onError instead.
    if (state.next !== undefined) {
      error(
        `${at}/next`,
        'a state that transfers the call has no "next": the caller leaves the flow',
        'use "onError" for a failed transfer',
      );
    }
    if (state.hangup !== undefined) {
      error(`${at}/hangup`, 'a state that transfers the call does not hang up: the caller leaves the flow');
    }
  },

  reads: (def, at) => [{ pointer: `${at}/transfer`, text: def.transfer, moment: 'state', spoken: false }],
  address: (def) => def.transfer,

  act(def, id, step) {
    if (def.transfer !== undefined) step.emit({ type: 'transfer', id, to: step.render(def.transfer) });
  },

  route(query) {
    const { event, ctx } = query;
    if (event.type !== 'transfer.failed') return undefined;
    return event.id === ctx.pending ? failed(query) : IGNORE;
  },

  describe: {
    // The number is not shown: it may be a person's own.
    transfer: () => ({ kind: 'event', title: 'transfer asked for', detail: null }),
    'transfer.failed': (_m, text) => ({ kind: 'event', title: 'transfer failed', detail: text('reason') }),
  },

  run: {
    transfer: (effect, ports) => {
      if (effect.type !== 'transfer') return;
      const { id, to } = effect;
      ports.afterAudio(async () => {
        try {
          await ports.transfer(to);
        } catch (err) {
          if (ports.stopped()) return;
          ports.log.error('transfer failed', { err, id });
          const reason = err instanceof Error ? err.message : String(err);
          ports.deliver({ type: 'transfer.failed', at: ports.now(), id, reason });
        }
      });
    },
  },

  journalKeys: {
    transfer: (effect, callId) => `${callId}:${effect.id}`,
  },

  tallies: [
    { counts: { effect: 'transfer' }, thing: 'transfer', what: 'asked for' },
    { counts: { event: 'transfer.failed' }, thing: 'transfer', what: 'failed', takesBack: 'asked for' },
  ],

  drawState(def, draw) {
    if (def.transfer === undefined) return false;
    // The number is not drawn: it may be a person's own, and diagrams get shared.
    draw.node('hangup', ['transfer']);
    if (def.onError !== undefined) draw.edges(def.onError, ERROR_LABEL);
    if (
      def.onError === undefined ||
      (Array.isArray(def.onError) && def.onError.every((c) => c.if !== undefined))
    )
      draw.failing();
    return true;
  },
};
