/** `set`: slots stored on entering the state, before its prompt; values are templates. */
import { escapePointer, isObject } from '../validate/finding.ts';
import type { FlowAction } from './action.ts';
export type { SetFields } from './format/set.ts';

export const SLOT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const set: FlowAction = {
  name: 'set',
  keys: ['set'],
  storesOnEntry: true,
  example: { set: { size: 'large' }, say: 'A {{size}} pizza it is.', next: 'confirm' },

  validate({ state, at, error, template }) {
    if (state.set === undefined) return;
    if (!isObject(state.set)) {
      error(`${at}/set`, 'set must map slot names to values');
      return;
    }
    for (const [slot, text] of Object.entries(state.set)) {
      const p = `${at}/set/${escapePointer(slot)}`;
      if (!SLOT_NAME.test(slot))
        error(p, 'a slot name is letters, digits and "_", not starting with a digit');
      // An empty value is allowed: it clears the slot.
      if (typeof text !== 'string') error(p, 'a slot value must be text (a template)');
      else template(text, p);
    }
  },

  stores: (state) => (isObject(state.set) ? Object.keys(state.set) : []),

  reads(def, at) {
    return Object.entries(def.set ?? {}).map(([slot, text]) => ({
      pointer: `${at}/set/${escapePointer(slot)}`,
      text,
      moment: 'entry' as const,
      spoken: true,
    }));
  },

  enter(def, step) {
    if (!def.set) return;
    const values: Record<string, string> = {};
    for (const [slot, template] of Object.entries(def.set)) values[slot] = step.render(template);
    step.setSlots(values);
  },
};
