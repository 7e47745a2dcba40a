/**
 * What an input means in a state: the pure decision behind every transition of a call's machine. Given the flow,
 * the state, the conversation so far and one event, `route` says whether the call leaves for another state (and
 * with which slot values), stays to retry, re-ask or keep collecting, or ignores the event. The machine asks it in
 * its guards (to pick the target) and in its actions (to carry the decision out), so both always agree. What an
 * event means for a state's actions is asked of the actions (src/flow/actions/); what is left here holds for
 * every state: prompts heard, barge-in, global intents, and retries.
 */
import { ExampleMatcher } from '../nlu/example-matcher.ts';
import { ACTIONS, acts, interrupts, stateFacts, waitsForInput } from './actions/index.ts';
import { saidNo, saidYes } from './actions/index.ts';
import { parseCondition, type Condition } from './conditions.ts';
import type { CallContext, CallEvent } from './events.ts';
import {
  GIVE_UP_STATE,
  IGNORE,
  fallbackOf,
  gotos,
  goto,
  retry,
  stay,
  type Route,
  type RoutingTable,
} from './routing.ts';
import type { FlowFile, ResolvedPolicy, StateDef } from './types.ts';

export {
  BOOT_STATE,
  ENDED_STATE,
  GIVE_UP_STATE,
  fallbackOf,
  resolveTarget,
  type Route,
  type RoutingTable,
  type StayAction,
} from './routing.ts';
export { acts, isDecision, waitsForInput } from './actions/index.ts';

/** Parse every condition of a validated flow. Throws on a condition that does not parse (validation prevents it). */
export function routingTable(flow: FlowFile, policy: ResolvedPolicy): RoutingTable {
  const conditions = new Map<string, Condition>();
  for (const def of Object.values(flow.states)) {
    for (const source of ACTIONS.flatMap((a) => a.conditions?.(def) ?? [])) {
      if (source === undefined || conditions.has(source)) continue;
      const parsed = parseCondition(source);
      if (!parsed.ok)
        throw new Error(`condition does not parse: ${parsed.message} at offset ${parsed.offset}`);
      conditions.set(source, parsed.value.condition);
    }
  }
  const globals = new Map<string, string>();
  for (const [name, intent] of Object.entries(flow.intents ?? {})) {
    if (intent.global !== undefined) globals.set(name, intent.global);
  }
  return { flow, policy, conditions, globals, examples: new ExampleMatcher(flow.intents ?? {}), last: null };
}

/** Every state `route` may send a call to from `state`, for the machine's transitions. */
export function possibleTargets(table: RoutingTable, state: string): string[] {
  const def = table.flow.states[state];
  if (!def) return [];
  const out = new Set<string>();
  for (const target of ACTIONS.flatMap((a) => a.targets?.(def) ?? []))
    for (const to of gotos(target)) out.add(to);
  if (waitsForInput(def)) for (const target of table.globals.values()) out.add(target);
  out.add(fallbackOf(table));
  out.add(GIVE_UP_STATE);
  return [...out];
}

/** Where a decision state goes on entry (the fallback when no choice holds). */
export function routeDecision(table: RoutingTable, state: string, ctx: CallContext): Route {
  const def = table.flow.states[state];
  if (!def) return IGNORE;
  const at = ctx.lastEventAt;
  return askActions(table, state, def, ctx, { type: 'played', at, mark: ctx.playing ?? '' }) ?? IGNORE;
}

/**
 * `route`, decided once per event: the machine asks the same question in each of a state's guards and again in its
 * action, always with the same context and event objects (snapshots are never changed in place), so the last
 * answer is reused while they are the same.
 */
export function routeOnce(table: RoutingTable, state: string, ctx: CallContext, event: CallEvent): Route {
  const last = table.last;
  if (last && last.state === state && last.ctx === ctx && last.event === event) return last.route;
  const decided = route(table, state, ctx, event);
  table.last = { state, ctx, event, route: decided };
  return decided;
}

/** What `event` means in `state`. */
export function route(table: RoutingTable, state: string, ctx: CallContext, event: CallEvent): Route {
  const def = table.flow.states[state];
  if (!def) return IGNORE;
  const listening = waitsForInput(def) || ctx.confirming;
  switch (event.type) {
    case 'played': {
      if (event.mark !== ctx.playing) return IGNORE;
      if (listening) return stay({ kind: 'listen' });
      const facts = stateFacts(def);
      if (facts.acts) return ctx.pending === null ? stay({ kind: 'act' }) : IGNORE;
      if (facts.ends) return IGNORE;
      return askActions(table, state, def, ctx, event) ?? IGNORE;
    }
    case 'timer':
      // Not the no-input timer: one a state's work armed, or a stale one.
      if (event.id !== ctx.timer)
        return acts(def) ? (askActions(table, state, def, ctx, event) ?? IGNORE) : IGNORE;
      return askActions(table, state, def, ctx, event) ?? retry(table, ctx, 'noInput');
    case 'speech.start':
      // The caller speaks over the state's question: the prompt stops now, not when the words are known, unless
      // the state says speech may not interrupt it.
      if (!listening || ctx.playing === null || !interrupts(def, 'speech')) return IGNORE;
      return stay({ kind: 'bargeIn' });
    case 'dtmf':
      if (!waitsForInput(def)) return IGNORE;
      // A key during a prompt that may not be interrupted counts for nothing; once it has played, keys count.
      if (ctx.playing !== null && !interrupts(def, 'dtmf')) return IGNORE;
      if (ctx.checking !== undefined) {
        if (event.digit === '1') return leaveForGlobal(table, ctx.checking);
        if (event.digit === '2') return stay({ kind: 'declineGlobal' });
      }
      return askActions(table, state, def, ctx, event) ?? retry(table, ctx, 'noMatch');
    case 'utterance':
      if (!waitsForInput(def)) return IGNORE;
      return routeUtterance(table, state, def, ctx, event);
    default:
      if (!acts(def)) return IGNORE;
      return askActions(table, state, def, ctx, event) ?? IGNORE;
  }
}

function askActions(
  table: RoutingTable,
  state: string,
  def: StateDef,
  ctx: CallContext,
  event: CallEvent,
): Route | undefined {
  for (const action of ACTIONS) {
    const decided = action.route?.({ table, state, def, ctx, event });
    if (decided !== undefined) return decided;
  }
  return undefined;
}

function routeUtterance(
  table: RoutingTable,
  state: string,
  def: StateDef,
  ctx: CallContext,
  event: Extract<CallEvent, { type: 'utterance' }>,
): Route {
  const intent = event.intent;
  if (ctx.checking !== undefined) {
    // Yes or no to "did you mean...?"; anything else answers the state's own question.
    if (intent === ctx.checking || saidYes(event)) return leaveForGlobal(table, ctx.checking);
    if (saidNo(event)) return stay({ kind: 'declineGlobal' });
  }
  const decided = askActions(table, state, def, ctx, event);
  if (decided !== undefined) return decided;
  const global = intent === null ? undefined : table.globals.get(intent);
  if (global !== undefined && intent !== null) {
    // A paraphrase ("in person") can read as a global intent ("a real person"): the model's guess does not
    // take the caller away from the question they were asked until they say it is what they meant.
    const exact = table.examples.match(event.text)?.intent === intent;
    return exact ? goto(global, null, true) : stay({ kind: 'checkGlobal', intent });
  }
  if (intent === 'repeat') return stay({ kind: 'repeat' });
  return retry(table, ctx, 'noMatch');
}

/** The caller confirmed the global intent they were asked about: go where it leads. */
function leaveForGlobal(table: RoutingTable, intent: string): Route {
  const target = table.globals.get(intent);
  return target === undefined ? IGNORE : goto(target, null, true);
}
