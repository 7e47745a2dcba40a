/**
 * The state's policies for a turn that goes wrong: the apologies for no input (`noInputSay`) and no match
 * (`noMatchSay`), escalating as retries are used, and the silence that ends the caller's turn (`endOfTurnMs`).
 * The flow's own `policy` (retries, the fallback, speech failover) is resolved in policy.ts. The no-input timer's
 * effects are carried out here.
 */
import { escalate } from '../prompts.ts';
import type { Check, Add } from '../validate/finding.ts';
import type { FlowAction, Read } from './action.ts';
import type { TimerEffect } from './format/policies.ts';
export type { PolicyFields, TimerEffect } from './format/policies.ts';

export const timerStart = (id: string, ms: number): TimerEffect => ({ type: 'timer.start', id, ms });
export const timerCancel = (id: string): TimerEffect => ({ type: 'timer.cancel', id });

const RETRY_KEYS = ['noInputSay', 'noMatchSay'] as const;

export const policies: FlowAction = {
  name: 'policies',
  keys: ['endOfTurnMs', ...RETRY_KEYS],
  example: {
    say: 'What is your account number?',
    collect: { slot: 'account', digits: { max: 8 } },
    next: 'found',
    noInputSay: ['Sorry, I did not hear anything.', 'Please type your account number.'],
    endOfTurnMs: 1200,
  },

  schema: ({ property, text }) => {
    // A state's own apologies must say something.
    for (const key of RETRY_KEYS) {
      const generated = property(key);
      for (const k of Object.keys(generated)) if (k !== 'description') delete generated[k];
      generated.anyOf = [text, { type: 'array', items: text, minItems: 1 }];
    }
    return {};
  },

  endOfTurnMs: (def) => def.endOfTurnMs,

  validate({ state, at, error, template }) {
    const ms = state.endOfTurnMs;
    if (ms !== undefined && (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 200 || ms > 5000))
      error(`${at}/endOfTurnMs`, 'endOfTurnMs must be a whole number of milliseconds from 200 to 5000');
    for (const key of RETRY_KEYS) {
      if (state[key] !== undefined) checkRetryPrompt(state[key], `${at}/${key}`, key, true, template, error);
    }
  },

  reads(def, at) {
    const out: Read[] = [];
    for (const key of RETRY_KEYS) {
      const text = def[key];
      if (typeof text === 'string')
        out.push({ pointer: `${at}/${key}`, text, moment: 'state', spoken: true });
      else
        text?.forEach((t, i) =>
          out.push({ pointer: `${at}/${key}/${i}`, text: t, moment: 'state', spoken: true }),
        );
    }
    return out;
  },

  // After collect's: a value that breaks the rules gets its `invalidSay` when the collect has one.
  apology(def, retry, step) {
    const prompt =
      retry.reason === 'noInput'
        ? (def.noInputSay ?? step.policy.noInputSay)
        : (def.noMatchSay ?? step.policy.noMatchSay);
    return step.render(escalate(prompt, step.ctx.retries));
  },

  describe: {
    'timer.start': (_m, text) => ({
      kind: 'timer',
      title: `timer ${text('id')} armed for ${text('ms')} ms`,
      detail: null,
    }),
    'timer.cancel': (_m, text) => ({ kind: 'timer', title: `timer ${text('id')} cancelled`, detail: null }),
  },

  run: {
    'timer.start': (effect, ports) => {
      if (effect.type === 'timer.start') ports.startTimer(effect.id, effect.ms);
    },
    'timer.cancel': (effect, ports) => {
      if (effect.type === 'timer.cancel') ports.cancelTimer(effect.id);
    },
  },

  journalKeys: {
    'timer.start': (effect, callId) => `${callId}:timer.start:${effect.id}`,
    'timer.cancel': (effect, callId) => `${callId}:timer.cancel:${effect.id}`,
  },
};

/**
 * A retry apology: text, or a list that escalates. A state's apologies must say something; the policy's may be
 * empty, and then a retry repeats the prompt with no apology before it.
 */
export function checkRetryPrompt(
  value: unknown,
  at: string,
  key: string,
  nonEmpty: boolean,
  template: Check,
  add: Add,
): void {
  const one = (text: unknown, p: string): void => {
    if (typeof text !== 'string') add(p, `${key} must be text or a list of texts`);
    else if (nonEmpty && text.trim() === '') add(p, `${key} must be non-empty text`);
    else template(text, p);
  };
  if (!Array.isArray(value)) one(value, at);
  else if (value.length === 0) add(at, `${key} must not be an empty list`, 'leave it out to use the default');
  else value.forEach((text: unknown, i) => one(text, `${at}/${i}`));
}
