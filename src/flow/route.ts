/**
 * What an input means in a state: the pure decision behind every transition of a call's machine. Given the flow,
 * the state, the conversation so far and one event, `route` says whether the call leaves for another state (and
 * with which slot values), stays to retry, re-ask or keep collecting, or ignores the event. The machine asks it in
 * its guards (to pick the target) and in its actions (to carry the decision out), so both always agree.
 */
import { BUILTIN_ENTITIES, entityFromDtmf, type BuiltinEntity } from '../nlu/entities/index.ts';
import { ExampleMatcher } from '../nlu/example-matcher.ts';
import { evaluateCondition, parseCondition, type Condition } from './conditions.ts';
import type { CallContext, CallEvent } from './events.ts';
import type { CollectDef, FlowFile, ResolvedPolicy, StateDef, Target } from './types.ts';

/** Internal states; flow state names cannot start with `$`. */
export const BOOT_STATE = '$boot';
export const ENDED_STATE = '$ended';
export const GIVE_UP_STATE = '$giveUp';

/** What staying in the state involves. */
export type StayAction =
  /** The prompt has been heard: wait for input. */
  | { kind: 'listen' }
  /** One more key of a digit entry. */
  | { kind: 'digit'; digit: string }
  /** Apologise and ask again. */
  | { kind: 'retry'; reason: 'noInput' | 'noMatch' }
  /**
   * A value was heard or typed but fails the collect's rules (its `validate`, or the length of a digit entry):
   * say its `invalidSay`, which may read the value back, and ask again.
   */
  | { kind: 'retry'; reason: 'invalid'; slot: string; value: string }
  /** Say the prompt again without counting a retry (the caller asked to hear it again). */
  | { kind: 'repeat' }
  /** A value was collected: store it and read it back for a yes or no. */
  | { kind: 'confirm'; slot: string; value: string }
  /** The caller said no to the read-back: forget the value and ask for it again. */
  | { kind: 'reask'; slot: string }
  /** The prompt has been heard: make the state's web request or transfer. */
  | { kind: 'act' }
  /** The model heard a global intent: ask whether the caller meant it before leaving the state's question. */
  | { kind: 'checkGlobal'; intent: string }
  /** The caller did not mean the global intent: back to the state's own question, no retry counted. */
  | { kind: 'declineGlobal' };

export type Route =
  | { kind: 'goto'; target: string; slots: Record<string, string> | null; input: boolean }
  | { kind: 'stay'; action: StayAction }
  | { kind: 'ignore' };

const IGNORE: Route = { kind: 'ignore' };

/** A flow prepared for routing: conditions parsed once, policy resolved. */
export interface RoutingTable {
  readonly flow: FlowFile;
  readonly policy: ResolvedPolicy;
  readonly conditions: ReadonlyMap<string, Condition>;
  /** Intent name -> target state, for intents heard in every waiting state. */
  readonly globals: ReadonlyMap<string, string>;
  /** The flow's exact examples: a global intent said exactly needs no confirmation. */
  readonly examples: ExampleMatcher;
  /** The last decision made, see routeOnce. */
  last: { state: string; ctx: CallContext; event: CallEvent; route: Route } | null;
}

/** Parse every condition of a validated flow. Throws on a condition that does not parse (validation prevents it). */
export function routingTable(flow: FlowFile, policy: ResolvedPolicy): RoutingTable {
  const conditions = new Map<string, Condition>();
  const add = (source: string | undefined): void => {
    if (source === undefined || conditions.has(source)) return;
    const parsed = parseCondition(source);
    if (!parsed.ok) throw new Error(`condition does not parse: ${parsed.message} at offset ${parsed.offset}`);
    conditions.set(source, parsed.value.condition);
  };
  for (const def of Object.values(flow.states)) {
    for (const target of [...Object.values(def.on ?? {}), def.next]) {
      if (Array.isArray(target)) for (const choice of target) add(choice.if);
    }
    add(def.collect?.validate);
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
  const add = (target: Target | undefined): void => {
    if (target === undefined) return;
    if (typeof target === 'string') out.add(target);
    else for (const choice of target) out.add(choice.goto);
  };
  for (const target of Object.values(def.on ?? {})) add(target);
  add(def.next);
  add(def.onError);
  if (waitsForInput(def)) for (const target of table.globals.values()) out.add(target);
  out.add(fallbackOf(table));
  out.add(GIVE_UP_STATE);
  return [...out];
}

/** Does the state wait for the caller (keys or speech)? */
export function waitsForInput(def: StateDef): boolean {
  return def.on !== undefined || def.collect !== undefined;
}

/** A state that neither speaks nor waits: it moves on at once. */
export function isDecision(def: StateDef): boolean {
  return (
    def.say === undefined &&
    !waitsForInput(def) &&
    !acts(def) &&
    def.next !== undefined &&
    def.hangup !== true
  );
}

/** Does the state make a web request or a transfer, and wait for its outcome? */
export function acts(def: StateDef): boolean {
  return def.http !== undefined || def.transfer !== undefined;
}

export function fallbackOf(table: RoutingTable): string {
  return table.policy.fallback ?? GIVE_UP_STATE;
}

/** The first choice of `target` whose condition holds on `slots`, or null when none does. */
export function resolveTarget(
  table: RoutingTable,
  target: Target,
  slots: Readonly<Record<string, string>>,
): string | null {
  if (typeof target === 'string') return target;
  for (const choice of target) {
    if (choice.if === undefined) return choice.goto;
    const condition = table.conditions.get(choice.if);
    if (condition && evaluateCondition(condition, slots)) return choice.goto;
  }
  return null;
}

/** Where a decision state goes on entry (the fallback when no choice holds). */
export function routeDecision(table: RoutingTable, state: string, ctx: CallContext): Route {
  const def = table.flow.states[state];
  if (!def?.next) return IGNORE;
  const target = resolveTarget(table, def.next, ctx.slots);
  return goto(target ?? fallbackOf(table), null, false);
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
  switch (event.type) {
    case 'played':
      if (event.mark !== ctx.playing) return IGNORE;
      if (waitsForInput(def) || ctx.confirming) return stay({ kind: 'listen' });
      if (acts(def)) return ctx.pending === null ? stay({ kind: 'act' }) : IGNORE;
      if (def.hangup || def.next === undefined) return IGNORE;
      return goto(resolveTarget(table, def.next, ctx.slots) ?? fallbackOf(table), null, false);
    case 'timer':
      if (event.id !== ctx.timer) return IGNORE;
      if (
        def.collect?.digits &&
        !ctx.confirming &&
        ctx.digits.length >= Math.max(1, def.collect.digits.min ?? 1)
      ) {
        return keyed(table, def, def.collect, ctx, ctx.digits);
      }
      return retry(table, ctx, 'noInput');
    case 'dtmf':
      if (!waitsForInput(def)) return IGNORE;
      return routeKey(table, def, ctx, event.digit);
    case 'utterance':
      if (!waitsForInput(def)) return IGNORE;
      return routeUtterance(table, def, ctx, event);
    case 'http.done': {
      if (event.id !== ctx.pending || def.next === undefined) return IGNORE;
      const slots = { ...ctx.slots, ...event.slots };
      return goto(resolveTarget(table, def.next, slots) ?? fallbackOf(table), event.slots, false);
    }
    case 'http.failed':
    case 'transfer.failed': {
      if (event.id !== ctx.pending) return IGNORE;
      const target = def.onError === undefined ? null : resolveTarget(table, def.onError, ctx.slots);
      // A state that is itself the fallback would only fail again: give up instead of looping.
      const fallback = fallbackOf(table) === state ? GIVE_UP_STATE : fallbackOf(table);
      return goto(target ?? fallback, null, false);
    }
    default:
      return IGNORE;
  }
}

function routeKey(table: RoutingTable, def: StateDef, ctx: CallContext, digit: string): Route {
  if (ctx.checking !== undefined) {
    if (digit === '1') return leaveForGlobal(table, ctx.checking);
    if (digit === '2') return stay({ kind: 'declineGlobal' });
  }
  if (ctx.confirming) {
    if (digit === '1') return confirmed(table, def, ctx);
    if (digit === '2' && def.collect) return stay({ kind: 'reask', slot: def.collect.slot });
    return retry(table, ctx, 'noMatch');
  }
  const bound = def.on?.[`dtmf:${digit}`];
  if (bound !== undefined) return leaveOnInput(table, ctx, bound, ctx.slots);
  const digits = def.collect?.digits;
  if (def.collect && digits) {
    if (digit === digits.terminator) {
      if (ctx.digits === '') return retry(table, ctx, 'noMatch');
      // Too few keys is a value that breaks the entry's rule: the caller hears what they typed.
      if (ctx.digits.length < (digits.min ?? 1))
        return retry(table, ctx, { slot: def.collect.slot, value: ctx.digits });
      return keyed(table, def, def.collect, ctx, ctx.digits);
    }
    const entry = ctx.digits + digit;
    if (digits.max !== undefined && entry.length >= digits.max)
      return keyed(table, def, def.collect, ctx, entry);
    return stay({ kind: 'digit', digit });
  }
  return retry(table, ctx, 'noMatch');
}

function routeUtterance(
  table: RoutingTable,
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
  if (ctx.confirming) {
    if (saidYes(event)) return confirmed(table, def, ctx);
    if (saidNo(event) && def.collect) {
      return stay({ kind: 'reask', slot: def.collect.slot });
    }
    if (intent === 'repeat') return stay({ kind: 'repeat' });
    return retry(table, ctx, 'noMatch');
  }
  const bound = intent === null ? undefined : def.on?.[intent];
  if (bound !== undefined) return leaveOnInput(table, ctx, bound, ctx.slots);
  const entity = def.collect?.entity;
  if (def.collect && entity !== undefined) {
    const value = event.entities[entity];
    if (value !== undefined) return collected(table, def, def.collect, ctx, value);
  }
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

/**
 * A complete keypad entry for `collect`: as typed without an entity; for a flow entity, the value whose name or
 * synonym is exactly the keys (so `"large": ["3"]` lets a caller press 3); for a built-in one, its keypad reading
 * (a date as YYYYMMDD, 1 for yes). Keys that mean nothing there are a no-match.
 */
function keyed(
  table: RoutingTable,
  def: StateDef,
  collect: CollectDef,
  ctx: CallContext,
  keys: string,
): Route {
  const entity = collect.entity;
  let value: string | null = keys;
  if (entity !== undefined) {
    const custom = table.flow.entities?.[entity];
    if (custom) {
      const match = Object.entries(custom.values).find(
        ([name, synonyms]) => name === keys || synonyms.includes(keys),
      );
      value = match?.[0] ?? null;
    } else if (isBuiltinEntity(entity)) value = entityFromDtmf(entity, keys);
  }
  return value === null ? retry(table, ctx, 'noMatch') : collected(table, def, collect, ctx, value);
}

function isBuiltinEntity(name: string): name is BuiltinEntity {
  return (BUILTIN_ENTITIES as readonly string[]).includes(name);
}

/** A value was entered or said for `collect`: check it, then confirm it or move on. */
function collected(
  table: RoutingTable,
  def: StateDef,
  collect: CollectDef,
  ctx: CallContext,
  value: string,
): Route {
  const slots = { ...ctx.slots, [collect.slot]: value };
  const invalid = (): Route => retry(table, ctx, { slot: collect.slot, value });
  if (!withinLength(collect, value)) return invalid();
  if (collect.validate !== undefined) {
    const condition = table.conditions.get(collect.validate);
    if (condition && !evaluateCondition(condition, slots)) return invalid();
  }
  if (collect.confirm !== undefined) return stay({ kind: 'confirm', slot: collect.slot, value });
  if (def.next === undefined) return IGNORE;
  return leaveOnInput(table, ctx, def.next, slots, { [collect.slot]: value });
}

/**
 * Whether a digit string fits the collect's `digits` length, spoken or typed: the keypad completes an entry at
 * `max` keys, and a caller who says one digit too many must not get further than one who types it.
 */
function withinLength(collect: CollectDef, value: string): boolean {
  const digits = collect.digits;
  if (digits === undefined || (collect.entity !== undefined && collect.entity !== 'digits')) return true;
  if (!/^[0-9]+$/.test(value)) return true;
  return value.length >= (digits.min ?? 1) && (digits.max === undefined || value.length <= digits.max);
}

function saidYes(event: Extract<CallEvent, { type: 'utterance' }>): boolean {
  return event.intent === 'yes' || (event.intent === null && event.entities.yes !== undefined);
}

function saidNo(event: Extract<CallEvent, { type: 'utterance' }>): boolean {
  return event.intent === 'no' || (event.intent === null && event.entities.no !== undefined);
}

/** The caller confirmed the global intent they were asked about: go where it leads. */
function leaveForGlobal(table: RoutingTable, intent: string): Route {
  const target = table.globals.get(intent);
  return target === undefined ? IGNORE : goto(target, null, true);
}

/** The caller said yes to the read-back: the slot already holds the value. */
function confirmed(table: RoutingTable, def: StateDef, ctx: CallContext): Route {
  if (def.next === undefined) return IGNORE;
  return leaveOnInput(table, ctx, def.next, ctx.slots);
}

/** Leave on an input for `target`; when no choice holds, the input was no match. */
function leaveOnInput(
  table: RoutingTable,
  ctx: CallContext,
  target: Target,
  slots: Readonly<Record<string, string>>,
  set: Record<string, string> | null = null,
): Route {
  const to = resolveTarget(table, target, slots);
  return to === null ? retry(table, ctx, 'noMatch') : goto(to, set, true);
}

/**
 * Ask again (after a no-input, a no-match, or a value that broke the rules), or leave for the fallback once
 * retries are used up.
 */
function retry(
  table: RoutingTable,
  ctx: CallContext,
  why: 'noInput' | 'noMatch' | { slot: string; value: string },
): Route {
  if (ctx.retries >= table.policy.maxRetries) return goto(fallbackOf(table), null, true);
  return stay(
    typeof why === 'string' ? { kind: 'retry', reason: why } : { kind: 'retry', reason: 'invalid', ...why },
  );
}

function goto(target: string, slots: Record<string, string> | null, input: boolean): Route {
  return { kind: 'goto', target, slots, input };
}

function stay(action: StayAction): Route {
  return { kind: 'stay', action };
}
