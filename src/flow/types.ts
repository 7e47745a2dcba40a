import { BUILTIN_ENTITIES } from '../nlu/entities/index.ts';
import type { CallFields } from './actions/format/call.ts';
import type { CollectFields } from './actions/format/collect.ts';
import type { HangupFields } from './actions/format/hangup.ts';
import type { HttpFields } from './actions/format/http.ts';
import type { NextFields } from './actions/format/next.ts';
import type { OnFields } from './actions/format/on.ts';
import type { PolicyFields } from './actions/format/policies.ts';
import type { RecordFields } from './actions/format/record.ts';
import type { ResumeFields, SayFields } from './actions/format/say.ts';
import type { SetFields } from './actions/format/set.ts';
import type { TransferFields } from './actions/format/transfer.ts';
import type { RetryPrompt } from './actions/format/target.ts';

export type { RetryPrompt, Target, TargetChoice } from './actions/format/target.ts';
export type { CollectDef, DigitsDef } from './actions/format/collect.ts';
export type { HttpDef } from './actions/format/http.ts';

// The JSDoc tags below (`@pattern`, `@minimum`, ...) become constraints in flows/flow.schema.json
// (`npm run schema`); they restate rules of validate.ts so editors flag mistakes as they are typed.

/**
 * The flow file: what a user writes to define their agent: prompts, keypad and spoken input (intents and
 * entities), slots collected and checked, transitions on input and on slot conditions, retries and fallbacks.
 */
export interface FlowFile {
  /** The flow schema, for editors: `"./flow.schema.json"`. */
  $schema?: string;
  /**
   * Stable identifier; also the name used in `?flow=NAME`.
   * @pattern ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$
   * @examples ["demo"]
   */
  id: string;
  /**
   * Version of this flow, a positive integer.
   * @asType integer
   * @minimum 1
   */
  version: number;
  /**
   * Language of the prompts; recorded with the flow, not yet read by the speech engines.
   * @examples ["en-US"]
   */
  language?: string;
  /** TTS voice for every prompt of this flow, unless the engine's default is wanted. */
  voice?: string;
  /**
   * The state a call starts in.
   * @pattern ^[A-Za-z][A-Za-z0-9_-]{0,63}$
   */
  start: string;
  /**
   * What callers may say, by intent name, each with example utterances. The built-in intents `yes`, `no`,
   * `repeat` and `cancel` exist without being defined here; defining one replaces its examples.
   * @propertyNames {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]{0,63}$"}
   */
  intents?: Record<string, IntentDef>;
  /**
   * Value lists a flow collects or recognises, by entity name: each canonical value with its synonyms. The
   * built-in entities `yes`, `no`, `number`, `digits`, `date`, `time` and `phone_number` need no definition.
   * @propertyNames {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]{0,63}$"}
   */
  entities?: Record<string, EntityDef>;
  /**
   * An intent model trained elsewhere (a Hugging Face-style ONNX text classifier) to understand callers with,
   * instead of the model trained from the intents' examples. Exact examples still match first.
   */
  model?: ModelDef;
  /**
   * The flow's states by name. A name starts with a letter and uses letters, digits, `-` or `_`, but not `--`,
   * which names the states of called sub-flows.
   * @propertyNames {"type": "string", "pattern": "^(?!.*--)[A-Za-z][A-Za-z0-9_-]{0,63}$"}
   * @minProperties 1
   */
  states: Record<string, StateDef>;
  /**
   * Groups of states written once and called from several states (`"call": "address"`), by name; the
   * target `"$return"` inside one goes back to the calling state's `next`.
   * @propertyNames {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_-]{0,63}$"}
   */
  subflows?: Record<string, SubflowDef>;
  /** States a call goes to on what may happen in any state: an answering machine picking up. */
  on?: FlowOn;
  /**
   * Record every call from its start: this consent line (a template, e.g. `"This call is recorded for quality
   * and training."`) is said first, before the first state's prompt, and the recording starts once it has been
   * heard, as if the first state had `record`. It is said before any slot is stored.
   * @minLength 1
   * @pattern \S
   */
  record?: string;
  /** Timeouts, retries and apologies for the whole flow. */
  policy?: FlowPolicy;
}

/** A model folder and how its labels map onto the flow's intents. */
export interface ModelDef {
  /**
   * The folder, relative to the flow file's folder: `model.onnx` (inputs `input_ids`, `attention_mask`,
   * optionally `token_type_ids`; output `logits`), `tokenizer.json` and `config.json` (`id2label`).
   * @examples ["../models/pharmacy"]
   */
  path: string;
  /**
   * Model labels whose names are not the flow's intents: each to an intent, or to null when the label means out
   * of scope. Labels not listed must be intent names.
   */
  labels?: Record<string, string | null>;
  /**
   * The lowest probability that counts as understood. Left out, it is calibrated when the model loads, on the
   * flow's examples and sentences no flow is about.
   * @minimum 0
   * @maximum 1
   */
  threshold?: number;
}

/**
 * Where a call goes, whatever state it is in, on what the telephone network reports during the call. The call
 * leaves its state as it does for the supervisor's `onGiveUp`: what is playing stops.
 */
export interface FlowOn {
  /**
   * The state an outbound call goes to when answering-machine detection says a machine's greeting is over (it
   * beeped, or went silent): the message to leave. Entered once, however often the detection says so; other
   * answers (a person, a fax) are only kept in `call.answeredBy`.
   * @pattern ^[A-Za-z][A-Za-z0-9_-]{0,63}$
   * @examples ["voicemail"]
   */
  machine?: string;
}

/**
 * States called as a unit: a calling state goes to `start`, and `"$return"` leads back to the calling state's
 * `next`. Slots are shared with the rest of the flow.
 */
export interface SubflowDef {
  /**
   * The sub-flow's first state.
   * @pattern ^[A-Za-z][A-Za-z0-9_-]{0,63}$
   */
  start: string;
  /**
   * The sub-flow's states; their targets name one another, or `"$return"`. They cannot `call` a sub-flow.
   * @propertyNames {"type": "string", "pattern": "^(?!.*--)[A-Za-z][A-Za-z0-9_-]{0,63}$"}
   * @minProperties 1
   */
  states: Record<string, StateDef>;
}

/** An intent: what a caller means, taught by examples of what they say. */
export interface IntentDef {
  /**
   * Things a caller says to mean this intent. Said exactly (ignoring case and punctuation) they are this
   * intent; they also train the flow's intent model, which recognizes other phrasings. An example may belong
   * to one intent only.
   * @minItems 1
   */
  examples: string[];
  /**
   * Makes the intent global: heard in every state that waits for input, leading to this state unless the
   * state handles the intent itself (an operator request, say).
   * @pattern ^[A-Za-z][A-Za-z0-9_-]{0,63}$
   */
  global?: string;
  /**
   * For a global intent: the question asked when the intent model heard it in a state's answer, rather than the
   * caller saying one of its examples, before it takes them away from that state's question, e.g. `"Do you want
   * to speak to a pharmacist?"`. Yes (or 1) goes on to the intent's state; no (or 2) asks the state's question
   * again. Plain text. Default: `Did you mean <its first example>? Please say yes or no.`
   * @minLength 1
   * @pattern \S
   */
  confirm?: string;
}

/** A list of values a caller may name, each with the other words that mean it. */
export interface EntityDef {
  /**
   * Canonical values and their synonyms: `{ "large": ["big", "family size"] }`. A slot collected with this
   * entity holds the canonical value.
   * @minProperties 1
   */
  values: Record<string, string[]>;
}

// Each group of keys belongs to one action of src/flow/actions/, which defines, checks and carries it out.
/** One state of a call: what it says, and where it goes next. */
export interface StateDef
  extends
    SayFields,
    PolicyFields,
    SetFields,
    RecordFields,
    OnFields,
    CollectFields,
    NextFields,
    HangupFields,
    ResumeFields,
    HttpFields,
    TransferFields,
    CallFields {}

/** Timeouts, retries and apologies for the whole flow; each setting left out takes its default. */
export interface FlowPolicy {
  /**
   * How long to wait for input after a prompt has played.
   * @asType integer
   * @minimum 1000
   * @maximum 120000
   */
  noInputMs?: number;
  /**
   * Reprompts after a no-input or no-match before the fallback.
   * @asType integer
   * @minimum 0
   * @maximum 10
   */
  maxRetries?: number;
  /**
   * State to go to when retries run out; the call hangs up when absent.
   * @pattern ^[A-Za-z][A-Za-z0-9_-]{0,63}$
   */
  fallback?: string;
  /** Said when input is missing, then the state's prompt is repeated; a list escalates. */
  noInputSay?: RetryPrompt;
  /** Said when input matches nothing, then the state's prompt is repeated; a list escalates. */
  noMatchSay?: RetryPrompt;
  /** How often a failing call is restarted before it is ended. */
  supervisor?: SupervisorPolicy;
  /** What a call does when its speech service (Google's, say) keeps failing. */
  speechFailover?: SpeechFailoverPolicy;
}

/**
 * Failover of speech as a business rule: after repeated failures of the speech service, a call goes on with the
 * embedded engines (offline recognition and voice) or, when recognition is not available, with the keypad.
 */
export interface SpeechFailoverPolicy {
  /**
   * Failures in a row (a turn not recognized, a prompt not synthesized) before the call switches.
   * @asType integer
   * @minimum 1
   * @maximum 10
   */
  after?: number;
  /**
   * What hears the caller after the switch: `"embedded"` (the offline engine; the keypad when it is not
   * installed) or `"dtmf"` (the keypad only).
   */
  hearing?: 'embedded' | 'dtmf';
  /** Said when the call switches to the embedded engines, before the state's prompt is asked again. */
  say?: string;
  /** Said when the call switches to the keypad, before the state's prompt is asked again. */
  keypadSay?: string;
}

/** Restart intensity of a call's supervisor: past it, a failing call is ended rather than restarted. */
export interface SupervisorPolicy {
  /**
   * Restarts allowed within `withinMs` before the supervisor gives up (OTP restart intensity).
   * @asType integer
   * @minimum 0
   * @maximum 100
   */
  maxRestarts?: number;
  /**
   * The window, in milliseconds, that `maxRestarts` counts restarts in.
   * @asType integer
   * @minimum 1
   * @maximum 86400000
   */
  withinMs?: number;
  /**
   * State a call goes to when its supervisor gives up (an apology and a transfer, or a goodbye). Without it,
   * or if that state fails too, the call is ended.
   * @pattern ^[A-Za-z][A-Za-z0-9_-]{0,63}$
   */
  onGiveUp?: string;
}

/** Policy with every default filled in. */
export interface ResolvedPolicy {
  noInputMs: number;
  maxRetries: number;
  fallback: string | null;
  noInputSay: RetryPrompt;
  noMatchSay: RetryPrompt;
  supervisor: { maxRestarts: number; withinMs: number; onGiveUp: string | null };
  speechFailover: { after: number; hearing: 'embedded' | 'dtmf'; say: string; keypadSay: string };
}

export const DEFAULT_POLICY: ResolvedPolicy = {
  noInputMs: 8000,
  maxRetries: 2,
  fallback: null,
  noInputSay: "Sorry, I didn't get anything.",
  noMatchSay: "Sorry, I didn't understand that.",
  supervisor: { maxRestarts: 3, withinMs: 60_000, onGiveUp: null },
  // Switching engines needs no words; switching to keys does, or the caller would not know to use them.
  speechFailover: {
    after: 2,
    hearing: 'embedded',
    say: '',
    keypadSay: "Sorry, I'm having trouble hearing you. Please use your keypad.",
  },
};

/** Intents every flow has; a flow may redefine their examples. */
export const BUILTIN_INTENT_NAMES = ['yes', 'no', 'repeat', 'cancel'] as const;

/** Entities every flow has: the rule-based extractors of nlu/. */
export const BUILTIN_ENTITY_NAMES = BUILTIN_ENTITIES;
