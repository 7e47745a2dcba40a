/**
 * `transfer`: connect the caller to a number once the prompt has played; the caller leaves the flow. Cold (a
 * number) connects at once; warm (`"mode": "warm"`) holds the caller while the person is called and briefed
 * with the `whisper`, and brings the caller back when they do not take the call. A transfer that cannot be made
 * or is not taken is the event `transfer.failed`, which takes the state's `onError`.
 */
import { E164 } from '../../common/e164.ts';
import { isSwitchboardError } from '../../errors.ts';
import type { StateDef } from '../types.ts';
import { IGNORE } from '../routing.ts';
import { templateSlots } from '../template.ts';
import type { FlowAction, StateCheck } from './action.ts';
import { ERROR_LABEL } from './action.ts';
import type { TransferDef, WarmTransfer } from './format/transfer.ts';
import { failed } from './next.ts';
export type {
  TransferDef,
  TransferFields,
  TransferEffect,
  TransferOutcome,
  WarmTransfer,
} from './format/transfer.ts';

/** Seconds a warm transfer rings the person when the flow does not say. */
const WARM_TIMEOUT_SECONDS = 30;
const MIN_TIMEOUT_SECONDS = 5;
const MAX_TIMEOUT_SECONDS = 120;
/** Whispers are said by Twilio from TwiML inline in the request, which has a size limit. */
const MAX_WHISPER_CHARS = 1000;
const TRANSFER_KEYS = new Set(['to', 'mode', 'whisper', 'timeout', 'hold']);
const WARM_ONLY = ['whisper', 'timeout', 'hold'] as const;

/** The number (or template) a state transfers to, whichever way it is written. */
function targetOf(def: StateDef): string | undefined {
  const t = def.transfer;
  return typeof t === 'string' ? t : t?.to;
}

/** The warm part of a state's transfer; undefined for a cold one. */
function warmOf(def: StateDef): TransferDef | undefined {
  const t = def.transfer;
  return typeof t === 'object' && t.mode === 'warm' ? t : undefined;
}

export const transfer: FlowAction = {
  name: 'transfer',
  keys: ['transfer'],
  events: ['transfer.failed'],
  example: { say: 'Connecting you to a pharmacist.', transfer: '{{env.PHARMACY_LINE}}', onError: 'sorry' },

  schema: ({ has, waiting, property, def }) => {
    // A number, or a template worked out when the call transfers.
    const pattern = `${E164.source}|\\{\\{`;
    const branches = (property('transfer').anyOf ?? []) as Record<string, unknown>[];
    for (const branch of branches) if (branch.type === 'string') branch.pattern = pattern;
    const to = (def('TransferDef').properties as Record<string, Record<string, unknown>>).to;
    if (to) to.pattern = pattern;
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

  validate(check) {
    const { state, at: stateAt, error } = check;
    const value = state.transfer;
    if (value === undefined) return;
    const at = `${stateAt}/transfer`;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      validateSpelledOut(value as Record<string, unknown>, at, check);
      return;
    }
    if (typeof value !== 'string' || value.trim() === '') {
      error(
        at,
        'transfer must be a phone number, a template, or an object with "to"',
        'e.g. "+15555550100", "{{env.SUPPORT_LINE}}", or { "to": "{{env.DESK}}", "mode": "warm", "whisper": "..." }',
      );
      return;
    }
    checkNumber(value, at, check);
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

  reads: (def, at) => {
    const to = targetOf(def);
    if (to === undefined) return [];
    if (typeof def.transfer === 'string')
      return [{ pointer: `${at}/transfer`, text: to, moment: 'state', spoken: false }];
    const reads = [{ pointer: `${at}/transfer/to`, text: to, moment: 'state' as const, spoken: false }];
    const whisper = warmOf(def)?.whisper;
    // Spoken, but to the person taking the call, not to the caller.
    if (whisper !== undefined)
      reads.push({ pointer: `${at}/transfer/whisper`, text: whisper, moment: 'state', spoken: false });
    return reads;
  },
  address: (def) => targetOf(def),

  act(def, id, step) {
    const to = targetOf(def);
    if (to === undefined) return;
    const warm = warmOf(def);
    if (warm === undefined) return void step.emit({ type: 'transfer', id, to: step.render(to) });
    const spec: WarmTransfer = {
      whisper: step.render(warm.whisper ?? '').slice(0, MAX_WHISPER_CHARS),
      timeoutSeconds: warm.timeout ?? WARM_TIMEOUT_SECONDS,
      hold: warm.hold ?? null,
    };
    step.emit({ type: 'transfer', id, to: step.render(to), warm: spec });
  },

  route(query) {
    const { event, ctx } = query;
    if (event.type !== 'transfer.failed') return undefined;
    return event.id === ctx.pending ? failed(query) : IGNORE;
  },

  describe: {
    // The number is not shown: it may be a person's own.
    transfer: (m) => ({
      kind: 'event',
      title: m.warm === undefined ? 'transfer asked for' : 'warm transfer asked for',
      detail: null,
    }),
    'transfer.failed': (_m, text) => ({ kind: 'event', title: 'transfer failed', detail: text('reason') }),
  },

  run: {
    transfer: (effect, ports) => {
      if (effect.type !== 'transfer') return;
      const { id, to, warm } = effect;
      ports.afterAudio(async () => {
        try {
          await ports.transfer(to, warm === undefined ? undefined : { id, ...warm });
        } catch (err) {
          if (ports.stopped()) return;
          // A person not taking a warm transfer is an outcome the flow handles, not a fault.
          if (isSwitchboardError(err, 'CALL_TRANSFER_NOT_TAKEN'))
            ports.log.info('transfer not taken', { id });
          else ports.log.error('transfer failed', { err, id });
          const reason = err instanceof Error ? err.message : String(err);
          ports.deliver({ type: 'transfer.failed', at: ports.now(), id, reason });
        }
      });
    },
  },

  journalKeys: {
    transfer: (effect, callId) => `${callId}:${effect.id}`,
  },

  handsOver: ['transfer'],
  tallies: [
    { counts: { effect: 'transfer' }, thing: 'transfer', what: 'asked for' },
    { counts: { event: 'transfer.failed' }, thing: 'transfer', what: 'failed', takesBack: 'asked for' },
  ],

  drawState(def, draw) {
    if (def.transfer === undefined) return false;
    // The number is not drawn: it may be a person's own, and diagrams get shared.
    draw.node('hangup', [warmOf(def) === undefined ? 'transfer' : 'warm transfer']);
    if (def.onError !== undefined) draw.edges(def.onError, ERROR_LABEL);
    if (
      def.onError === undefined ||
      (Array.isArray(def.onError) && def.onError.every((c) => c.if !== undefined))
    )
      draw.failing();
    return true;
  },
};

/** A transfer written as an object: `to`, and the mode's own keys. */
function validateSpelledOut(value: Record<string, unknown>, at: string, check: StateCheck): void {
  const { error, template } = check;
  for (const key of Object.keys(value)) {
    if (!TRANSFER_KEYS.has(key))
      error(
        `${at}/${key}`,
        `unknown key "${key}" in a transfer`,
        'it may have to, mode, whisper, timeout, hold',
      );
  }
  const to = value.to;
  if (typeof to !== 'string' || to.trim() === '') {
    error(
      `${at}/to`,
      'a transfer needs "to": a phone number or a template',
      'e.g. "to": "{{env.FRONT_DESK}}"',
    );
  } else checkNumber(to, `${at}/to`, check);
  const mode = value.mode ?? 'cold';
  if (mode !== 'cold' && mode !== 'warm') {
    error(`${at}/mode`, 'mode must be "cold" or "warm"');
    return;
  }
  if (mode === 'cold') {
    for (const key of WARM_ONLY) {
      if (value[key] !== undefined)
        error(`${at}/${key}`, `"${key}" is for a warm transfer`, 'add "mode": "warm"');
    }
    return;
  }
  const whisper = value.whisper;
  if (typeof whisper !== 'string' || whisper.trim() === '') {
    error(
      `${at}/whisper`,
      'a warm transfer needs a "whisper": what the person hears before taking the call',
      'e.g. "{{name}} is calling about {{reason}}."',
    );
  } else if (whisper.length > MAX_WHISPER_CHARS) {
    error(`${at}/whisper`, `the whisper is over ${MAX_WHISPER_CHARS} characters`);
  } else template(whisper, `${at}/whisper`);
  const timeout = value.timeout;
  if (
    timeout !== undefined &&
    (typeof timeout !== 'number' ||
      !Number.isInteger(timeout) ||
      timeout < MIN_TIMEOUT_SECONDS ||
      timeout > MAX_TIMEOUT_SECONDS)
  ) {
    error(
      `${at}/timeout`,
      `timeout must be whole seconds from ${MIN_TIMEOUT_SECONDS} to ${MAX_TIMEOUT_SECONDS}`,
    );
  }
  const hold = value.hold;
  if (hold !== undefined && (typeof hold !== 'string' || !/^https?:\/\/[^\s]+$/.test(hold))) {
    error(
      `${at}/hold`,
      'hold must be an http or https URL of audio or TwiML',
      'e.g. "https://example.com/hold.mp3"',
    );
  }
}

/** A number to transfer to: E.164, or a template worked out when the call transfers. */
function checkNumber(to: string, at: string, { error, template }: StateCheck): void {
  if (templateSlots(to).length > 0) template(to, at);
  else if (!E164.test(to)) {
    error(
      at,
      'transfer must be an E.164 number: "+", the country code and the number, no spaces',
      'e.g. "+15555550100"',
    );
  }
}
