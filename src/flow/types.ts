// The JSDoc tags below (`@pattern`, `@minimum`, ...) become constraints in flows/flow.schema.json
// (`npm run schema`); they restate rules of validate.ts so editors flag mistakes as they are typed.

/**
 * The flow file: what a user writes to define their agent. This is the first version of the language (keypad
 * input, prompts, digit collection, hangup); the schema grows with the language.
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
   * The flow's states by name. A name starts with a letter and uses letters, digits, `-` or `_`.
   * @propertyNames {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_-]{0,63}$"}
   * @minProperties 1
   */
  states: Record<string, StateDef>;
  /** Timeouts, retries and apologies for the whole flow. */
  policy?: FlowPolicy;
}

/** One state of a call: what it says, and where it goes next. */
export interface StateDef {
  /**
   * Prompt, with `{{slot}}` templates (`{{slot|digits}}` reads digits one by one).
   * @minLength 1
   * @pattern \S
   */
  say?: string;
  /**
   * Transitions by input: `"dtmf:1": "hours"`.
   * @propertyNames {"type": "string", "pattern": "^dtmf:[0-9*#A-D]$"}
   * @examples [{"dtmf:1": "hours"}]
   */
  on?: Record<string, string>;
  /** Collect keypad digits into a slot. */
  collect?: CollectDef;
  /**
   * Where to go when the prompt has played (states without input) or when `collect` completes.
   * @pattern ^[A-Za-z][A-Za-z0-9_-]{0,63}$
   */
  next?: string;
  /**
   * End the call once the prompt has played.
   * @default false
   */
  hangup?: boolean;
  /**
   * Said instead of the default when the caller gives no input in time.
   * @minLength 1
   * @pattern \S
   */
  noInputSay?: string;
  /**
   * Said instead of the default when the caller's input matches nothing.
   * @minLength 1
   * @pattern \S
   */
  noMatchSay?: string;
}

/** Keypad digits collected into a slot, which later prompts read with `{{slot}}`. */
export interface CollectDef {
  /**
   * Name of the slot the digits are stored in.
   * @pattern ^[A-Za-z_][A-Za-z0-9_]*$
   */
  slot: string;
  digits: DigitsDef;
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
  /** Said when input is missing, then the state's prompt is repeated. */
  noInputSay?: string;
  /** Said when input matches nothing, then the state's prompt is repeated. */
  noMatchSay?: string;
  /** How often a failing call is restarted before it is ended. */
  supervisor?: SupervisorPolicy;
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
}

/** Policy with every default filled in. */
export interface ResolvedPolicy {
  noInputMs: number;
  maxRetries: number;
  fallback: string | null;
  noInputSay: string;
  noMatchSay: string;
  supervisor: Required<SupervisorPolicy>;
}

export const DEFAULT_POLICY: ResolvedPolicy = {
  noInputMs: 8000,
  maxRetries: 2,
  fallback: null,
  noInputSay: "Sorry, I didn't get anything.",
  noMatchSay: "Sorry, I didn't understand that.",
  supervisor: { maxRestarts: 3, withinMs: 60_000 },
};

export const DTMF_KEYS = '0123456789*#ABCD';
