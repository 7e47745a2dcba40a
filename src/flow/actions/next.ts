/**
 * `next`: where the state goes once its prompt has played (a state without input), once its collect completes,
 * or once its web request answers; and `onError`, where it goes when its work (a request, a transfer) fails. A
 * state with neither a prompt nor input goes at once: a decision state.
 */
import {
  GIVE_UP_STATE,
  IGNORE,
  fallbackOf,
  goto,
  mayFallThrough,
  resolveTarget,
  type Route,
} from '../routing.ts';
import type { Target } from './format/target.ts';
import { DONE_LABEL, type FlowAction, type Read, type RouteQuery } from './action.ts';
export type { NextFields } from './format/next.ts';

const choiceIfs = (to: Target | undefined): (string | undefined)[] =>
  Array.isArray(to) ? to.map((choice) => choice.if) : [];

function targetReads(to: Target | undefined, pointer: string, moment: Read['moment']): Read[] {
  if (!Array.isArray(to)) return [];
  return to.map((choice, i) => ({
    pointer: `${pointer}/${i}/if`,
    condition: choice.if,
    moment,
    spoken: false,
  }));
}

/** The state's work failed: its `onError`, else the fallback (or giving up, when the state is the fallback). */
export function failed({ table, state, def, ctx }: RouteQuery): Route {
  const target = def.onError === undefined ? null : resolveTarget(table, def.onError, ctx.slots, ctx.call);
  // A state that is itself the fallback would only fail again: give up instead of looping.
  const fallback = fallbackOf(table) === state ? GIVE_UP_STATE : fallbackOf(table);
  return goto(target ?? fallback, null, false);
}

export const next: FlowAction = {
  name: 'next',
  keys: ['next', 'onError'],
  example: {
    say: 'We are open from 9 to 5.',
    next: [{ if: 'count > 2', goto: 'bigOrder' }, { goto: 'menu' }],
  },

  schema: ({ has, acting }) => ({
    exit: has('next'),
    exitText: '"next"',
    state: [
      {
        description: `"onError" applies only to a state with ${acting.map((k) => `"${k}"`).join(' or ')}.`,
        if: has('onError'),
        then: { anyOf: acting.map(has) },
      },
    ],
  }),

  leaves: (state) => state.next !== undefined,
  movesOn: (def) => def.next !== undefined,

  validate({ state, at, target }) {
    if (state.next !== undefined) target(`${at}/next`, state.next);
  },

  combine({ state, at, acts, error, target }) {
    if (state.onError === undefined) return;
    if (acts) target(`${at}/onError`, state.onError);
    else error(`${at}/onError`, 'onError applies only to a state with "http" or "transfer"');
  },

  ignored(def, facts) {
    if (def.next === undefined) return [];
    if (facts.ends) return [{ key: 'next', message: 'next is never taken: the state hangs up' }];
    if (facts.branches)
      return [{ key: 'next', message: 'next is never taken: a state with "on" leaves only by its inputs' }];
    return [];
  },

  mapTargets(def, copy, map) {
    if (def.next !== undefined) copy.next = map(def.next, 'next');
    if (def.onError !== undefined) copy.onError = map(def.onError, 'onError');
  },

  targets: (def) => [def.next, def.onError],
  conditions: (def) => [...choiceIfs(def.next), ...choiceIfs(def.onError)],

  route({ table, def, ctx, event }) {
    // The prompt of a state that moves on by itself has been heard.
    if (event.type !== 'played') return undefined;
    if (def.next === undefined) return IGNORE;
    return goto(resolveTarget(table, def.next, ctx.slots, ctx.call) ?? fallbackOf(table), null, false);
  },

  paths(def, facts, sink) {
    if (facts.collects) {
      sink.stored(def.next);
      // A web request's answer with no choice of `next` holding goes to the fallback, its slots stored.
      if (facts.acts && mayFallThrough(def.next)) sink.fallback(true);
    }
    if (facts.acts) {
      // A failed request or transfer goes to onError, or to the fallback when there is none (or none holds).
      sink.edge(def.onError);
      if (def.onError === undefined || mayFallThrough(def.onError)) sink.fallback();
    } else if (!facts.waits && !facts.ends && def.next !== undefined) {
      sink.movesOn();
      sink.edge(def.next);
      // When no choice holds, the call goes to the fallback as if retries had run out.
      if (mayFallThrough(def.next)) sink.fallback();
    }
  },

  reads(def, at, facts) {
    return [
      ...targetReads(def.next, `${at}/next`, facts.collects ? 'after' : 'state'),
      // The error path never has the slots a failed request would have mapped.
      ...targetReads(def.onError, `${at}/onError`, 'state'),
    ];
  },

  drawEdges(def, draw, facts) {
    if (facts.branches || def.next === undefined) return;
    draw.edges(def.next, facts.collects ? DONE_LABEL : null);
    if (!facts.collects && mayFallThrough(def.next)) draw.fallsThrough();
  },
};
