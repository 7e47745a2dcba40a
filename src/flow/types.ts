import { BUILTIN_ENTITIES } from '../nlu/entities/index.ts';

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
  /** Timeouts, retries and apologies for the whole flow. */
  policy?: FlowPolicy;
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

/**
 * Where to go: a state name, or a list of choices tried in order, the first whose condition holds (a choice
 * without `if` always does). When none holds, input counts as a no-match; a state that moves on by itself goes to
 * the policy's fallback.
 */
export type Target = string | TargetChoice[];

/** One choice of a conditional target. */
export interface TargetChoice {
  /**
   * Condition on slots, e.g. `size == "large" && count >= 2`; see docs/flows.md for the syntax.
   * @minLength 1
   */
  if?: string;
  /**
   * The state to go to; `"$return"` inside a sub-flow.
   * @pattern ^[A-Za-z][A-Za-z0-9_-]{0,63}$
   */
  goto: string;
}

/**
 * Said instead of the default on a no-input or no-match; a list escalates: its first entry on the first retry,
 * the second on the second, and the last one from then on.
 */
export type RetryPrompt = string | string[];

/** One state of a call: what it says, and where it goes next. */
export interface StateDef {
  /**
   * Prompt, with `{{slot}}` templates (`{{slot|digits}}` reads digits one by one).
   * @minLength 1
   * @pattern \S
   */
  say?: string;
  /**
   * The same prompt as SSML (`<speak>...</speak>`, templates allowed; slot values are escaped), for engines that
   * read SSML; the others speak `say`, which is required alongside it.
   * @minLength 1
   * @pattern ^\s*<speak[\s>][\s\S]*</speak>\s*$
   */
  ssml?: string;
  /**
   * Whether the caller can interrupt this state's prompt: `true` (the default) by speaking or with a key,
   * `"dtmf"` with a key only (speech during the prompt is ignored), `false` not at all (the prompt plays out;
   * input counts once it has).
   */
  bargeIn?: boolean | 'dtmf';
  /**
   * Silence that ends the caller's turn in this state, in ms (default 700): longer for answers people pause in,
   * such as an address; shorter for yes or no.
   * @minimum 200
   * @maximum 5000
   */
  endOfTurnMs?: number;
  /**
   * Slots set on entering the state, before its prompt; values are templates (`"{{size}} pizza"`).
   * @propertyNames {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
   */
  set?: Record<string, string>;
  /**
   * Transitions by input: a key (`"dtmf:1"`), an intent of the flow, or a built-in intent (`yes`, `no`,
   * `repeat`, `cancel`). Each leads to a state, or to the first choice whose condition holds.
   * @propertyNames {"type": "string", "pattern": "^(dtmf:[0-9*#A-D]|[A-Za-z][A-Za-z0-9_]{0,63})$"}
   * @examples [{"dtmf:1": "hours", "talk_to_human": "operator"}]
   */
  on?: Record<string, Target>;
  /** Collect a slot from the keypad or from speech. */
  collect?: CollectDef;
  /**
   * Where to go when the prompt has played (states without input) or when `collect` completes; a state
   * with neither a prompt nor input goes at once (a decision state).
   */
  next?: Target;
  /**
   * End the call once the prompt has played.
   * @default false
   */
  hangup?: boolean;
  /** Said instead of the default when the caller gives no input in time; a list escalates. */
  noInputSay?: RetryPrompt;
  /** Said instead of the default when the caller's input matches nothing; a list escalates. */
  noMatchSay?: RetryPrompt;
  /**
   * Said instead of the prompt when the call resumes in this state after its logic was restarted.
   * @minLength 1
   * @pattern \S
   */
  resumeSay?: string;
  /**
   * Call a web service once the prompt (if any) has played; its answer can fill slots. Then `next` (the
   * success target) or `onError`.
   */
  http?: HttpDef;
  /**
   * Transfer the call to this number (E.164, e.g. `+15555550100`, or a template such as `{{env.SUPPORT_LINE}}`)
   * once the prompt has played: the caller is connected to it and leaves the flow. On failure, `onError`.
   * @minLength 1
   */
  transfer?: string;
  /** Where to go when `http` or `transfer` fails; the policy's fallback when absent. */
  onError?: Target;
  /**
   * Run this sub-flow, then go to `next` when it reaches `"$return"`. A calling state may also `set` slots,
   * and does nothing else.
   * @pattern ^[A-Za-z][A-Za-z0-9_-]{0,63}$
   */
  call?: string;
}

/** A web request made by a state. Strings are templates over the call's slots and `env.NAME` variables. */
export interface HttpDef {
  /** @default "POST" */
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /**
   * The URL, e.g. `{{env.ORDERS_URL}}/orders`; http or https.
   * @minLength 1
   */
  url: string;
  /** Request headers (templates). An `Idempotency-Key` header is always added: the same for every retry. */
  headers?: Record<string, string>;
  /** JSON body: an object whose string values are templates. */
  body?: Record<string, unknown>;
  /**
   * Give up on an attempt after this long.
   * @asType integer
   * @minimum 100
   * @maximum 30000
   * @default 5000
   */
  timeoutMs?: number;
  /**
   * Attempts after the first when the service fails (network error, timeout, 429 or 5xx).
   * @asType integer
   * @minimum 0
   * @maximum 5
   * @default 2
   */
  retries?: number;
  /**
   * Slots filled from the JSON answer, by JSON pointer: `{ "orderId": "/id", "eta": "/delivery/minutes" }`.
   * @propertyNames {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
   */
  map?: Record<string, string>;
}

/**
 * A slot collected from the keypad (`digits`), from speech (`entity`), or both, optionally checked and read back
 * for confirmation; later prompts read it with `{{slot}}`.
 */
export interface CollectDef {
  /**
   * Name of the slot the value is stored in.
   * @pattern ^[A-Za-z_][A-Za-z0-9_]*$
   */
  slot: string;
  /** Keypad entry: when it is complete. */
  digits?: DigitsDef;
  /**
   * What to listen for in speech: a built-in entity (`yes`, `no`, `number`, `digits`, `date`, `time`,
   * `phone_number`) or one of the flow's `entities`.
   * @pattern ^[A-Za-z][A-Za-z0-9_]{0,63}$
   */
  entity?: string;
  /**
   * Condition the value must meet, with the slot already holding it, e.g. `count >= 1 && count <= 10`. A value
   * that fails is a no-match, announced by `invalidSay` when given.
   * @minLength 1
   */
  validate?: string;
  /**
   * Said when a value fails `validate`, before the prompt is repeated.
   * @minLength 1
   * @pattern \S
   */
  invalidSay?: string;
  /**
   * Read the value back and ask for a yes or no (spoken, or 1 / 2 on the keypad) before going on, e.g.
   * `"That was {{size}}, right?"`. A no asks for the value again.
   * @minLength 1
   * @pattern \S
   */
  confirm?: string;
}

/** When a digit entry is complete. */
export interface DigitsDef {
  /**
   * Complete as soon as this many digits are entered.
   * @asType integer
   * @minimum 1
   * @maximum 64
   */
  max?: number;
  /**
   * Fewer digits than this is a no-match. Default 1.
   * @asType integer
   * @minimum 1
   * @maximum 64
   * @default 1
   */
  min?: number;
  /**
   * Key that ends the entry, usually `#`. Not stored in the slot.
   * @pattern ^[*#]$
   * @examples ["#"]
   */
  terminator?: string;
}

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

export const DTMF_KEYS = '0123456789*#ABCD';

/** Intents every flow has; a flow may redefine their examples. */
export const BUILTIN_INTENT_NAMES = ['yes', 'no', 'repeat', 'cancel'] as const;

/** Entities every flow has: the rule-based extractors of nlu/. */
export const BUILTIN_ENTITY_NAMES = BUILTIN_ENTITIES;
