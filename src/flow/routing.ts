/**
 * The vocabulary of routing, shared by route.ts and the actions (src/flow/actions/): what a decision can be, the
 * flow prepared for deciding, and the small moves every action's routing is made of (go to a target, retry,
 * leave on an input). Kept apart from route.ts so actions can use it without importing the table that lists them.
 */
import type { ExampleMatcher } from '../nlu/example-matcher.ts';
import type { CallInfo } from './call-info.ts';
import { evaluateCondition, type Condition } from './conditions.ts';
import type { CallContext } from './events.ts';
import type { FlowFile, ResolvedPolicy, Target } from './types.ts';

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
  /** The prompt has been heard: start the state's work (a web request, a transfer) and wait for its outcome. */
  | { kind: 'act' }
  /** The caller spoke over a prompt that may be interrupted: stop it now, before the words are known. */
  | { kind: 'bargeIn' }
  /** The model heard a global intent: ask whether the caller meant it before leaving the state's question. */
  | { kind: 'checkGlobal'; intent: string }
  /** The caller did not mean the global intent: back to the state's own question, no retry counted. */
  | { kind: 'declineGlobal' };

export type Route =
  | { kind: 'goto'; target: string; slots: Record<string, string> | null; input: boolean }
  | { kind: 'stay'; action: StayAction }
  | { kind: 'ignore' };

export const IGNORE: Route = { kind: 'ignore' };

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
  last: { state: string; ctx: CallContext; event: unknown; route: Route } | null;
}

export function fallbackOf(table: RoutingTable): string {
  return table.policy.fallback ?? GIVE_UP_STATE;
}

/** The first choice of `target` whose condition holds on `slots` and the `call`, or null when none does. */
export function resolveTarget(
  table: RoutingTable,
  target: Target,
  slots: Readonly<Record<string, string>>,
  call: CallInfo | undefined,
): string | null {
  if (typeof target === 'string') return target;
  for (const choice of target) {
    if (choice.if === undefined) return choice.goto;
    const condition = table.conditions.get(choice.if);
    if (condition && evaluateCondition(condition, slots, call)) return choice.goto;
  }
  return null;
}

/** Every state a target may lead to. */
export function gotos(target: Target | undefined): string[] {
  if (target === undefined) return [];
  return typeof target === 'string' ? [target] : target.map((choice) => choice.goto);
}

/** Every choice of the target has a condition, so none may hold. */
export function mayFallThrough(target: Target | undefined): boolean {
  return Array.isArray(target) && target.every((choice) => choice.if !== undefined);
}

/** Leave on an input for `target`; when no choice holds, the input was no match. */
export function leaveOnInput(
  table: RoutingTable,
  ctx: CallContext,
  target: Target,
  slots: Readonly<Record<string, string>>,
  set: Record<string, string> | null = null,
): Route {
  const to = resolveTarget(table, target, slots, ctx.call);
  return to === null ? retry(table, ctx, 'noMatch') : goto(to, set, true);
}

/**
 * Ask again (after a no-input, a no-match, or a value that broke the rules), or leave for the fallback once
 * retries are used up.
 */
export function retry(
  table: RoutingTable,
  ctx: CallContext,
  why: 'noInput' | 'noMatch' | { slot: string; value: string },
): Route {
  if (ctx.retries >= table.policy.maxRetries) return goto(fallbackOf(table), null, true);
  return stay(
    typeof why === 'string' ? { kind: 'retry', reason: why } : { kind: 'retry', reason: 'invalid', ...why },
  );
}

export function goto(target: string, slots: Record<string, string> | null, input: boolean): Route {
  return { kind: 'goto', target, slots, input };
}

export function stay(action: StayAction): Route {
  return { kind: 'stay', action };
}
