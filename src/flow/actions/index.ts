/**
 * The table of flow actions. Every key of a state belongs to one of them; the generic code asks this table (and
 * the helpers below, which ask every action) instead of naming an action. Adding an action is a module in this
 * folder and a line here.
 */
import type { CallContext, CallEvent, Effect } from '../events.ts';
import type { StateDef } from '../types.ts';
import { SwitchboardError } from '../../errors.ts';
import type { Expected, FlowAction, Journaled, SpokenPrompt, StateFacts, Tally } from './action.ts';
import { call } from './call.ts';
import { collect } from './collect.ts';
import { hangup } from './hangup.ts';
import { http } from './http/index.ts';
import { next } from './next.ts';
import { on } from './on.ts';
import type { ActionPorts } from './ports.ts';
import { policies } from './policies.ts';
import { record } from './record.ts';
import { say } from './say.ts';
import { set } from './set.ts';
import { transfer } from './transfer.ts';

/** In the order their checks, entry steps and apologies run. */
export const ACTIONS: readonly FlowAction[] = [
  call,
  say,
  hangup,
  set,
  record,
  next,
  on,
  collect,
  http,
  transfer,
  policies,
];

/** Every key a state may have. */
export const STATE_KEYS: ReadonlySet<string> = new Set(ACTIONS.flatMap((a) => a.keys));

/** The keys of the flow file itself that actions own. */
export const FLOW_KEYS: readonly string[] = ACTIONS.flatMap((a) => a.flowKeys ?? []);

/** Does the state wait for the caller (keys or speech)? */
export function waitsForInput(def: StateDef): boolean {
  return ACTIONS.some((a) => a.waits?.(def) === true);
}

/** Does the state start work (a web request, a transfer) and wait for its outcome? */
export function acts(def: StateDef): boolean {
  return ACTIONS.some((a) => a.acts?.(def) === true);
}

export function stateFacts(def: StateDef): StateFacts {
  return {
    waits: waitsForInput(def),
    acts: acts(def),
    ends: ACTIONS.some((a) => a.ends?.(def) === true),
    collects: ACTIONS.some((a) => a.collects?.(def) === true),
    branches: ACTIONS.some((a) => a.branches?.(def) === true),
  };
}

/** The state's question as templates: its prompt, or its read-back while confirming. */
export function promptOf(def: StateDef, confirming: boolean): { text: string; ssml?: string } | undefined {
  for (const a of ACTIONS) {
    const prompt = a.prompt?.(def, confirming);
    if (prompt !== undefined) return prompt;
  }
  return undefined;
}

/** A state that neither speaks nor waits: it moves on at once. */
export function isDecision(def: StateDef): boolean {
  const facts = stateFacts(def);
  return (
    promptOf(def, false) === undefined &&
    !facts.waits &&
    !facts.acts &&
    !facts.ends &&
    ACTIONS.some((a) => a.movesOn?.(def) === true)
  );
}

/** Whether the caller may interrupt the state's prompt by speaking, or with a key. */
export function interrupts(def: StateDef, by: 'speech' | 'dtmf'): boolean {
  return ACTIONS.every((a) => a.interrupts?.(def, by) ?? true);
}

/** What the state listens for (for recognition hints), from every action. */
export function expectedInput(def: StateDef): Expected {
  const expected: Expected = { intents: [] };
  for (const action of ACTIONS) {
    const part = action.expects?.(def);
    if (!part) continue;
    expected.intents.push(...(part.intents ?? []));
    if (part.entity !== undefined) expected.entity = part.entity;
    if (part.digits !== undefined) expected.digits = part.digits;
  }
  return expected;
}

/** Silence that ends the caller's turn in the state; undefined for the default. */
export function endOfTurnMs(def: StateDef): number | undefined {
  return ACTIONS.map((action) => action.endOfTurnMs?.(def)).find((ms) => ms !== undefined);
}

/** The events a state's actions answer, besides those every state does. */
export function eventsOf(def: StateDef): string[] {
  const events = new Set<string>();
  for (const a of ACTIONS) {
    const has = a.keys.some((key) => (def as Record<string, unknown>)[key] !== undefined);
    if (has) for (const event of a.events ?? []) events.add(event);
  }
  return [...events];
}

const RUNNERS = new Map<string, (effect: Effect, ports: ActionPorts) => void>(
  ACTIONS.flatMap((a) => Object.entries(a.run ?? {})),
);

/** Carry out `effect` with `ports`, by the action that emits it; false when no action does. */
export function runEffect(effect: Effect, ports: ActionPorts): boolean {
  const run = RUNNERS.get(effect.type);
  run?.(effect, ports);
  return run !== undefined;
}

// Each function takes the effects of its own type: the map is read by type only.
const JOURNAL_KEYS = new Map(
  ACTIONS.flatMap((a) =>
    Object.entries(a.journalKeys ?? {}).map(
      ([type, key]) => [type, key as (effect: Effect, callId: string) => string] as const,
    ),
  ),
);

/**
 * The key `effect` is journaled under in call `callId`, by the action that emits it: the same every time the
 * machine asks for the same effect.
 */
export function effectKey(callId: string, effect: Effect): string {
  const key = JOURNAL_KEYS.get(effect.type);
  if (key === undefined)
    throw new SwitchboardError('CALL_ACTOR_FAILED', 'no action gives this effect a journal key', {
      effect: effect.type,
    });
  return key(effect, callId);
}

// Each function takes the events of its own type: the map is read by type only.
const OUTCOMES = new Map(
  ACTIONS.flatMap((a) =>
    Object.entries(a.outcomes ?? {}).map(
      ([type, keep]) => [type, keep as (ctx: CallContext, event: CallEvent) => Partial<CallContext>] as const,
    ),
  ),
);

/** The outcome events actions answer in every state (see FlowAction's `outcomes`). */
export const OUTCOME_EVENTS: readonly CallEvent['type'][] = [...OUTCOMES.keys()] as CallEvent['type'][];

/** What outcome `event` keeps in the context, by the action that answers it; nothing for any other event. */
export function outcomeContext(ctx: CallContext, event: CallEvent): Partial<CallContext> {
  return OUTCOMES.get(event.type)?.(ctx, event) ?? {};
}

const PROMPTS = new Map(ACTIONS.flatMap((a) => Object.entries(a.prompts ?? {})));

/** The prompt `effect` asks to be spoken (it may come from a journal); null for an effect that speaks none. */
export function spokenPrompt(effect: Journaled): SpokenPrompt | null {
  return PROMPTS.get(effect.type)?.(effect) ?? null;
}

/** What the calls page counts of a call's work, every action's in the order of the table. */
export const TALLIES: readonly Tally[] = ACTIONS.flatMap((a) => a.tallies ?? []);

/** The effect types that hand a caller over to a person. */
export const HANDOVER_EFFECTS: ReadonlySet<string> = new Set(ACTIONS.flatMap((a) => a.handsOver ?? []));

export type {
  Described,
  Draw,
  Expected,
  FlowAction,
  Journaled,
  PathSink,
  Read,
  RouteQuery,
  SpokenPrompt,
  Tally,
  StateCheck,
  StateFacts,
  Step,
} from './action.ts';
export { DONE_LABEL, ERROR_LABEL } from './action.ts';
export type { ActionLog, ActionPorts, WarmTransferRequest } from './ports.ts';
export type { JsonSchema, SchemaContext, SchemaRules } from './schema.ts';
export { CLEAR_EFFECT, escapeSsml, sayEffect } from './say.ts';
export { HANGUP_EFFECT } from './hangup.ts';
export { timerCancel, timerStart, checkRetryPrompt } from './policies.ts';
export { saidNo, saidYes } from './collect.ts';
export { SLOT_NAME } from './set.ts';
export { describeHttp, HTTP_LABEL_MAX } from './http/index.ts';
export { JSON_POINTER, URL_START } from './http/validate.ts';
export {
  httpOutcomeEvent,
  notSetReason,
  performHttp,
  resolvePointer,
  type HttpActionOptions,
} from './http/perform.ts';
export type { HttpOutcome } from './format/http.ts';
export type { HttpNetwork } from './http/connect.ts';
export type { HttpDef, HttpEffect } from './format/http.ts';
export type { RecordAction, RecordEffect, RecordOutcome } from './format/record.ts';
export type { CollectDef, DigitsDef } from './format/collect.ts';
