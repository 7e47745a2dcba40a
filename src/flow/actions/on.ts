/** `on`: branch on a key (`"dtmf:1"`) or an intent, each to a target. The state waits for the caller. */
import { DTMF_KEYS, isDtmfKey } from '../../common/dtmf.ts';
import { leaveOnInput } from '../routing.ts';
import type { Target } from './format/target.ts';
import { escapePointer, isObject } from '../validate/finding.ts';
import type { FlowAction, Read } from './action.ts';
export type { OnFields } from './format/on.ts';

const KEY_PREFIX = 'dtmf:';

export const on: FlowAction = {
  name: 'on',
  keys: ['on'],
  events: ['dtmf', 'utterance'],
  example: { say: 'Press 1 for hours, or say agent.', on: { 'dtmf:1': 'hours', agent: 'operator' } },

  schema: ({ has }) => ({ exit: has('on'), exitText: '"on"' }),

  waits: (def) => def.on !== undefined,
  binds: (def, intent) => def.on?.[intent] !== undefined,
  branches: (def) => def.on !== undefined,
  expects: (def) => ({ intents: Object.keys(def.on ?? {}).filter((key) => !key.startsWith(KEY_PREFIX)) }),
  leaves: (state) => state.on !== undefined,

  validate({ state, at, error, target, names }) {
    if (state.on === undefined) return;
    if (!isObject(state.on)) {
      error(`${at}/on`, 'on must map inputs to states');
      return;
    }
    for (const [input, to] of Object.entries(state.on)) {
      const p = `${at}/on/${escapePointer(input)}`;
      if (input.startsWith(KEY_PREFIX)) {
        const key = input.slice(KEY_PREFIX.length);
        if (!isDtmfKey(key)) {
          error(p, `unknown input "${input}"`, `keypad inputs are written "dtmf:1"; keys: ${DTMF_KEYS}`);
        }
      } else if (!names.inputs.has(input)) {
        error(
          p,
          `intent "${input}" is not defined`,
          `${names.intentHints(input)}; keypad inputs are written "dtmf:1"`,
        );
      }
      target(p, to);
    }
  },

  mapTargets(def, copy, map) {
    if (def.on === undefined) return;
    copy.on = Object.fromEntries(
      Object.entries(def.on).map(([input, to]) => [input, map(to, `on/${escapePointer(input)}`)]),
    );
  },

  targets: (def) => Object.values(def.on ?? {}),
  conditions: (def) =>
    Object.values(def.on ?? {}).flatMap((to) => (Array.isArray(to) ? to.map((c) => c.if) : [])),

  route({ table, def, ctx, event }) {
    let bound: Target | undefined;
    if (event.type === 'dtmf') bound = def.on?.[`${KEY_PREFIX}${event.digit}`];
    else if (event.type === 'utterance' && event.intent !== null) bound = def.on?.[event.intent];
    return bound === undefined ? undefined : leaveOnInput(table, ctx, bound, ctx.slots);
  },

  paths(def, _facts, sink) {
    for (const to of Object.values(def.on ?? {})) sink.edge(to);
  },

  reads(def, at) {
    const out: Read[] = [];
    for (const [input, to] of Object.entries(def.on ?? {})) {
      if (!Array.isArray(to)) continue;
      to.forEach((choice, i) => {
        const pointer = `${at}/on/${escapePointer(input)}/${i}/if`;
        out.push({ pointer, condition: choice.if, moment: 'state', spoken: false });
      });
    }
    return out;
  },

  drawEdges(def, draw) {
    for (const [input, to] of Object.entries(def.on ?? {})) {
      draw.edges(to, input.startsWith(KEY_PREFIX) ? input.slice(KEY_PREFIX.length) : input);
    }
  },
};
