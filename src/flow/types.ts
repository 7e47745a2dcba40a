/**
 * The flow file: what a user writes to define their agent. This is the first version of the language (keypad
 * input, prompts, digit collection, hangup); the schema grows with the language.
 */
export interface FlowFile {
  $schema?: string;
  /** Stable identifier; also the name used in `?flow=NAME`. */
  id: string;
  version: number;
  language?: string;
  /** TTS voice for every prompt of this flow, unless the engine's default is wanted. */
  voice?: string;
  /** The state a call starts in. */
  start: string;
  states: Record<string, StateDef>;
  policy?: FlowPolicy;
}

export interface StateDef {
  /** Prompt, with `{{slot}}` templates (`{{slot|digits}}` reads digits one by one). */
  say?: string;
  /** Transitions by input: `"dtmf:1": "hours"`. */
  on?: Record<string, string>;
  /** Collect keypad digits into a slot. */
  collect?: CollectDef;
  /** Where to go when the prompt has played (states without input) or when `collect` completes. */
  next?: string;
  /** End the call once the prompt has played. */
  hangup?: boolean;
  /** Said instead of the default when the caller gives no input in time. */
  noInputSay?: string;
  /** Said instead of the default when the caller's input matches nothing. */
  noMatchSay?: string;
}

export interface CollectDef {
  slot: string;
  digits: DigitsDef;
}

export interface DigitsDef {
  /** Complete as soon as this many digits are entered. */
  max?: number;
  /** Fewer digits than this is a no-match. Default 1. */
  min?: number;
  /** Key that ends the entry, usually `#`. Not stored in the slot. */
  terminator?: string;
}

export interface FlowPolicy {
  /** How long to wait for input after a prompt has played. */
  noInputMs?: number;
  /** Reprompts after a no-input or no-match before the fallback. */
  maxRetries?: number;
  /** State to go to when retries run out; the call hangs up when absent. */
  fallback?: string;
  /** Said when input is missing, then the state's prompt is repeated. */
  noInputSay?: string;
  /** Said when input matches nothing, then the state's prompt is repeated. */
  noMatchSay?: string;
  supervisor?: SupervisorPolicy;
}

export interface SupervisorPolicy {
  /** Restarts allowed within `withinMs` before the supervisor gives up (OTP restart intensity). */
  maxRestarts?: number;
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
