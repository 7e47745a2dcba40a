/**
 * What a flow action is. Each key of a state (`say`, `collect`, `http`, ...) belongs to exactly one action module
 * in this folder, which is the single place that knows it: how it is checked, where it may lead, what it does when
 * the state is entered, which effects it asks for, how they are carried out and journaled, and how it is drawn.
 * The generic code (route.ts, compile.ts, validate.ts, checks.ts, graph.ts, env.ts, src/call/effects.ts,
 * src/call/supervisor.ts, src/web/calls/) asks the modules through the table in ./index.ts and never names an
 * action itself. Every hook is optional.
 */
import type { CallContext, CallEvent, Effect } from '../events.ts';
import type { Route, RoutingTable } from '../routing.ts';
import type { FlowFile, ResolvedPolicy, StateDef, Target } from '../types.ts';
import type { Add, Check } from '../validate/finding.ts';
import type { DigitsDef } from './format/collect.ts';
import type { ActionPorts } from './ports.ts';
import type { SchemaContext, SchemaRules } from './schema.ts';

/** What a state listens for, for speech recognition hints (src/call/listen-context.ts). */
export interface Expected {
  /** Intents the state names as inputs (keys are not intents). */
  intents: string[];
  /** The entity a collect listens for. */
  entity?: string;
  /** The keypad entry a collect takes. */
  digits?: DigitsDef;
}

/** What validation of one state offers an action. `state` is the state's JSON, not yet checked. */
export interface StateCheck {
  readonly state: Record<string, unknown>;
  /** Pointer of the state. */
  readonly at: string;
  /** The sub-flow the state belongs to; null for the flow's own states. */
  readonly subflow: string | null;
  /** Every key a state may have. */
  readonly stateKeys: ReadonlySet<string>;
  /** What the state does as a whole, from the keys it has (see `waits` and `acts` below). */
  readonly waits: boolean;
  readonly acts: boolean;
  readonly error: Add;
  readonly warn: Add;
  /** Check a template: its slots must be stored somewhere, its env names well formed. */
  readonly template: Check;
  readonly condition: (source: unknown, at: string) => void;
  /** Check a target: a state name of this flow (or sub-flow), or a list of choices. */
  readonly target: (pointer: string, to: unknown) => void;
  /** Names defined elsewhere in the file, with "did you mean" hints. */
  readonly names: {
    readonly inputs: ReadonlySet<string>;
    readonly intentHints: (name: string) => string;
    readonly entities: ReadonlySet<string>;
    readonly entityHints: (name: string) => string;
    readonly subflows: Readonly<Record<string, unknown>>;
    readonly subflowHints: (name: string) => string;
    /** Sub-flows called so far; an action that calls one adds it. */
    readonly called: Set<string>;
  };
}

/** What the routing of one event offers an action. */
export interface RouteQuery {
  readonly table: RoutingTable;
  readonly state: string;
  readonly def: StateDef;
  readonly ctx: CallContext;
  readonly event: CallEvent;
}

/** What a step of the machine offers an action: rendering, effects, slots. */
export interface Step {
  readonly flow: FlowFile;
  readonly policy: ResolvedPolicy;
  readonly ctx: CallContext;
  /** The slots as they are now in this step (after any set earlier in it). */
  readonly slots: Readonly<Record<string, string>>;
  render(template: string, slots?: Readonly<Record<string, string>>): string;
  emit(effect: Effect): void;
  setSlots(values: Record<string, string>): void;
  /**
   * Say `text` (rendered) under a mark of its own: a line of the action's, heard before the state's prompt. A
   * state without a prompt that waits for input starts its wait once the line has been heard.
   */
  say(text: string): void;
  /** A new id for work the action asks for, `<state>.<seq>`, made as marks and the ids of a state's work are. */
  nextId(): string;
  /** Keep `fields` of the action's own in the call's context. */
  note(fields: Partial<CallContext>): void;
}

/** A retry the machine is about to ask for, for the apology said before the question. */
export type Retry = { reason: 'noInput' | 'noMatch' } | { reason: 'invalid'; slot: string; value: string };

/** Where a template or a condition is read in a state, for the slot checks (checks.ts) and env.ts. */
export interface Read {
  pointer: string;
  text?: string;
  condition?: string;
  /**
   * On entering the state (`set`), in the state (prompts, requests, conditions on input), or after the state's
   * own collect or request stored its values (`next` conditions of such a state, `validate`, `confirm`).
   */
  moment: 'entry' | 'state' | 'after';
  /** Spoken to the caller (a prompt), or only used (a request, a number). */
  spoken: boolean;
}

/** Where a state can go, for the static checks' graph (checks.ts). */
export interface PathSink {
  /** A state the call can go to. */
  edge(target: Target | undefined): void;
  /** A state the call goes to only once the values the state collects or fetches are stored. */
  stored(target: Target | undefined): void;
  /** The policy's fallback, as an ordinary edge or a stored one. */
  fallback(stored?: boolean): void;
  /** The state speaks (or decides) and moves on by itself. */
  movesOn(): void;
}

/** Drawing a state (graph.ts). */
export interface Draw {
  node(kind: 'state' | 'hangup', notes: string[]): void;
  edges(target: Target, label: string | null): void;
  /** The state may reach the fallback when no choice of `next` holds. */
  fallsThrough(): void;
  /** The state may reach the fallback when its work fails. */
  failing(): void;
}

/** An event or effect in words, for the calls timeline and `switchboard replay` (describe.ts). */
export interface Described {
  /** What sort of thing it is, for grouping and styling: caller input, a prompt, a web request, ... */
  kind: 'input' | 'heard' | 'prompt' | 'web' | 'timer' | 'event';
  title: string;
  /** More about it, when there is more: how words were understood, a prompt's mark, a failure's reason. */
  detail: string | null;
}

/** A journaled event or effect: its fields unchecked (a journal may come from another build). */
export type Journaled = { readonly type: string; readonly [key: string]: unknown };

/** A prompt an effect asks to be spoken: the mark sent once it has been heard, and its words. */
export interface SpokenPrompt {
  mark: string;
  text: string;
}

/**
 * Something the calls page counts of a call's work (src/web/calls/outcome.ts): a journaled effect the action asks
 * for, or an outcome event it answers.
 */
export interface Tally {
  readonly counts: { readonly effect: string } | { readonly event: string };
  /** The work in words ("web request"), and what became of it ("answered"). */
  readonly thing: string;
  readonly what: string;
  /** What an earlier tally of the same work said that this one takes back: a transfer asked for, then failed. */
  readonly takesBack?: string;
}

/** An effect of one type. */
export type EffectOf<T extends Effect['type']> = Extract<Effect, { type: T }>;

/** The facts about a state its actions together decide (see the hooks of the same names). */
export interface StateFacts {
  waits: boolean;
  acts: boolean;
  ends: boolean;
  collects: boolean;
  branches: boolean;
}

/** Label of the edge a state takes once its collect or web request succeeded. */
export const DONE_LABEL = 'done';
/** Label of the edge a failed web request or transfer takes. */
export const ERROR_LABEL = 'error';

export interface FlowAction {
  /** The state key that turns the action on; also its name. */
  readonly name: string;
  /** Every state key the action owns (its name first). */
  readonly keys: readonly string[];
  /** Events the action answers in a state that has it: the machine's transitions for them. */
  readonly events?: readonly CallEvent['type'][];
  /** The action's rules in the flow schema, beyond what its types say (scripts/flow-schema.ts). */
  schema?(ctx: SchemaContext): SchemaRules;
  /** A short example for docs/flows.md: a state using the action. */
  readonly example: Record<string, unknown>;
  /** Keys of the flow file itself the action owns: a form of its state keys for the whole call. */
  readonly flowKeys?: readonly string[];

  /** The state waits for the caller's input. */
  waits?(def: StateDef): boolean;
  /** The state starts work whose outcome (an event) it waits for, once its prompt has been heard. */
  acts?(def: StateDef): boolean;
  /** The call ends (or leaves the flow) in this state: it does not move on after its prompt. */
  ends?(def: StateDef): boolean;
  /** What the state listens for: the intents it names, the entity and keypad entry it collects. */
  expects?(def: StateDef): Partial<Expected>;
  /** Silence that ends the caller's turn in the state, when the action sets one. */
  endOfTurnMs?(def: StateDef): number | undefined;
  /** Whether the caller may interrupt the state's prompt by speaking, or with a key. */
  interrupts?(def: StateDef, by: 'speech' | 'dtmf'): boolean;
  /** The state takes `intent` as one of its own inputs (a global intent then does not apply). */
  binds?(def: StateDef, intent: string): boolean;
  /** The state leaves only by the inputs it names (its `next` is never taken). */
  branches?(def: StateDef): boolean;
  /** The state stores values (a collected slot, a request's answer) before it takes its `next`. */
  collects?(def: StateDef): boolean;
  /** The state moves on by itself once its prompt (if any) has been heard. */
  movesOn?(def: StateDef): boolean;
  /** The state has a way out through this action (in its unchecked JSON). */
  leaves?(state: Record<string, unknown>): boolean;

  /** Checks of the keys the action owns, each finding at its pointer. */
  validate?(check: StateCheck): void;
  /** Checks of how the action combines with the others, after every action's own checks. */
  combine?(check: StateCheck): void;
  /** Checks of its `flowKeys` in `flow`, the file's JSON (not yet checked), each finding at its pointer. */
  validateFlowKeys?(
    flow: Record<string, unknown>,
    check: { readonly error: Add; readonly template: Check },
  ): void;
  /** Templates its `flowKeys` read, for the names a call captures (env.ts, vars.ts) and the prompts it speaks. */
  flowKeyReads?(flow: FlowFile): Read[];
  /** The action stores its slots on entering the state (before its prompt), not once the caller answers. */
  readonly storesOnEntry?: boolean;
  /** Slots the action stores (in the unchecked JSON of a state: it must not trust its shape). */
  stores?(state: Record<string, unknown>): string[];
  /** Templates and conditions the action reads. */
  reads?(def: StateDef, at: string, facts: StateFacts): Read[];
  /** The env-reading template of the address the action's work goes to (a URL, a number). */
  address?(def: StateDef): string | undefined;
  /** Why a slot stored by the action cannot be read in its own state, for a finding. */
  storedNote?(def: StateDef): string | undefined;

  /**
   * For a state that calls a sub-flow: the sub-flow, where `"$return"` leads, and the state that replaces the
   * caller once the sub-flow is expanded (subflows.ts), entering a copy of the sub-flow at `first`.
   */
  callsInto?(def: StateDef, first: string): { subflow: string; ret: Target; state: StateDef } | undefined;
  /** Set the action's targets of `copy` (a copied sub-flow state) to `map` of the original's, by pointer tail. */
  mapTargets?(def: StateDef, copy: StateDef, map: (target: Target, key: string) => Target): void;
  /** Keys of the state the machine never follows (a warning each), given what the state does. */
  ignored?(def: StateDef, facts: StateFacts): { key: string; message: string }[];
  /** Targets the action may lead to: the machine's transitions. */
  targets?(def: StateDef): (Target | undefined)[];
  /** Conditions the action's routing evaluates. */
  conditions?(def: StateDef): (string | undefined)[];
  /** What `query.event` means for the action; undefined when the action has no say in it. */
  route?(query: RouteQuery): Route | undefined;
  /** The paths a call may take, for the static checks. */
  paths?(def: StateDef, facts: StateFacts, sink: PathSink): void;

  /** On entering the state, before its prompt (slots set then are heard in it). */
  enter?(def: StateDef, step: Step): void;
  /** The state's question: its prompt, or its read-back while confirming. */
  prompt?(def: StateDef, confirming: boolean): { text: string; ssml?: string } | undefined;
  /** Said instead of the prompt when the call resumes in this state. */
  resumePrompt?(def: StateDef): string | undefined;
  /** The apology before a retry's question; undefined leaves it to the next action. */
  apology?(def: StateDef, retry: Retry, step: Step): string | undefined;
  /** Start the state's work under `id` (the idempotency key's base). */
  act?(def: StateDef, id: string, step: Step): void;
  /** After the state's prompt was asked for, on entry and on resume. */
  after?(def: StateDef, step: Step): void;

  /**
   * Outcome events the action answers in every state, from `call.start` on, without moving the call or touching
   * its retries and timers (work that outlives the state that asked for it): what each keeps in the context.
   */
  readonly outcomes?: {
    readonly [T in CallEvent['type']]?: (
      ctx: CallContext,
      event: Extract<CallEvent, { type: T }>,
    ) => Partial<CallContext>;
  };
  /**
   * The action's effects and outcome events in words, by type; `text` reads a field as text, whatever it holds.
   */
  readonly describe?: Readonly<Record<string, (m: Journaled, text: (key: string) => string) => Described>>;
  /** How each effect type the action emits is carried out. */
  readonly run?: Readonly<Record<string, (effect: Effect, ports: ActionPorts) => void>>;
  /**
   * The key each effect type the action emits is journaled under (src/call/supervisor.ts): the same whenever the
   * machine asks for the same effect, so a replayed or resumed call recognises it. Journals depend on these keys:
   * they never change.
   */
  readonly journalKeys?: { readonly [T in Effect['type']]?: (effect: EffectOf<T>, callId: string) => string };
  /** The prompt an effect of the action speaks, by effect type (the effect may come from a journal). */
  readonly prompts?: Readonly<Record<string, (effect: Journaled) => SpokenPrompt>>;
  /** What the calls page counts of the action's work, in the order it is shown. */
  readonly tallies?: readonly Tally[];
  /** Effects of this action that hand the caller over to a person (learning/ counts them against a turn). */
  readonly handsOver?: readonly Effect['type'][];
  /** Draw the whole state (it is drawn no further) and return true, or leave it to the others. */
  drawState?(def: StateDef, draw: Draw, facts: StateFacts): boolean;
  /** Notes on an ordinary state's node. */
  notes?(def: StateDef): string[];
  /** Edges of an ordinary state. */
  drawEdges?(def: StateDef, draw: Draw, facts: StateFacts): void;
}
