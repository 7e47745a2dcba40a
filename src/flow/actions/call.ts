/**
 * `call`: run a sub-flow, then go to `next` when it reaches `"$return"`. Sub-flows are expanded into copies of
 * their states before a flow is compiled (subflows.ts), so the machine never sees a calling state.
 */
import type { FlowAction } from './action.ts';
export type { CallFields } from './format/call.ts';

/** What a calling state may hold besides `call`: it runs the sub-flow and does nothing else. */
const CALL_KEYS = new Set(['call', 'next', 'set']);

export const call: FlowAction = {
  name: 'call',
  keys: ['call'],
  example: { set: { purpose: 'delivery' }, call: 'address', next: 'confirm' },

  schema: ({ has, stateKeys, def }) => {
    // Sub-flows do not nest.
    const states = (def('SubflowDef').properties as { states: { additionalProperties: unknown } }).states;
    states.additionalProperties = {
      allOf: [
        states.additionalProperties,
        { description: 'A sub-flow state cannot call a sub-flow.', not: { type: 'object', ...has('call') } },
      ],
    };
    return {
      requires: { call: ['next'] },
      state: [
        {
          description: 'A state that calls a sub-flow only sets slots and goes to "next" when it returns.',
          if: has('call'),
          then: { not: { anyOf: [...stateKeys].filter((key) => !CALL_KEYS.has(key)).map(has) } },
        },
      ],
    };
  },

  callsInto(def, first) {
    if (def.call === undefined || def.next === undefined) return undefined;
    // The calling state becomes a decision state into its copy; `set` still happens on entering it.
    const state = def.set === undefined ? { next: first } : { set: def.set, next: first };
    return { subflow: def.call, ret: def.next, state };
  },

  validate({ state, at, subflow, error, names, stateKeys }) {
    if (state.call === undefined) return;
    if (subflow !== null) {
      error(`${at}/call`, 'a sub-flow state cannot call a sub-flow', "call both from the flow's own states");
    } else if (typeof state.call !== 'string' || !Object.hasOwn(names.subflows, state.call)) {
      const hint = typeof state.call === 'string' ? names.subflowHints(state.call) : undefined;
      error(`${at}/call`, "call must name one of the flow's subflows", hint);
    } else names.called.add(state.call);
    if (state.next === undefined)
      error(at, 'a state that calls a sub-flow needs "next": where "$return" leads');
    for (const key of Object.keys(state)) {
      if (stateKeys.has(key) && !CALL_KEYS.has(key)) {
        error(
          `${at}/${key}`,
          `a state that calls a sub-flow cannot have "${key}"`,
          'put it in a state of the sub-flow, or in a state its "next" leads to',
        );
      }
    }
  },
};
