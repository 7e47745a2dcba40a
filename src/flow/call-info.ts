/**
 * How the call reached its flow: `{{call.direction}}`, `{{call.from}}` and `{{call.to}}` in templates, and
 * `call.direction == "outbound"` in conditions. The call's runner captures them when the call starts; they ride
 * on `call.start` into the machine's context, as the environment does, so a replay reads the same values. The
 * numbers are the caller's personal data: they live only in journal fields that are sealed at rest, never in a
 * log line's text nor in an event described in words.
 *
 * An outbound call also carries the variables it was dialled with (`{{call.vars.name}}`), and learns later who
 * answered (`call.answeredBy`), from the `answered` event that Twilio's answering-machine detection leads to.
 */
/** Prefix of a template name or condition operand read from the call itself: `{{call.from}}`. */
export const CALL_PREFIX = 'call.';

/** The names after `call.`, in the order they are listed to an author. */
export const CALL_NAMES = ['direction', 'from', 'to', 'answeredBy'] as const;
export type CallName = (typeof CALL_NAMES)[number];

/** Prefix, after `call.`, of a variable the call was dialled with: `call.vars.name`. */
export const VARS_PREFIX = 'vars.';
/** A variable's name: what a dialler may pass and a flow may read. */
export const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Every value a flow may read from the call, as an author writes it: for hints and messages. */
export const CALL_REFS: readonly string[] = [
  ...CALL_NAMES.map((name) => `${CALL_PREFIX}${name}`),
  `${CALL_PREFIX}${VARS_PREFIX}NAME`,
];

export type CallDirection = 'inbound' | 'outbound';

/** Who answered an outbound call, as Twilio's answering-machine detection reports it (`AnsweredBy`). */
export const ANSWERED_BY = [
  'human',
  'machine_start',
  'machine_end_beep',
  'machine_end_silence',
  'machine_end_other',
  'fax',
  'unknown',
] as const;
export type AnsweredBy = (typeof ANSWERED_BY)[number];
/** The answers that come once a machine's greeting is over. */
export type MachineEnd = Extract<AnsweredBy, `machine_end_${string}`>;

/**
 * The call as its flow sees it. `from` and `to` are E.164 numbers or client identities, left out when unknown
 * (a text chat, the softphone). `vars` are the variables an outbound call was dialled with; `answeredBy` is
 * left out until the answering-machine detection says who answered.
 */
export interface CallInfo {
  direction: CallDirection;
  from?: string;
  to?: string;
  vars?: Record<string, string>;
  answeredBy?: AnsweredBy;
}

/** A call of today's kind: dialled in, its numbers unknown. What a `call.start` without `call` means. */
export const INBOUND_CALL: CallInfo = Object.freeze({ direction: 'inbound' });

export function isCallDirection(value: unknown): value is CallDirection {
  return value === 'inbound' || value === 'outbound';
}

export function isAnsweredBy(value: unknown): value is AnsweredBy {
  return (ANSWERED_BY as readonly unknown[]).includes(value);
}

/** A machine's greeting is over (it beeped, went silent, or ended otherwise): a message can be left now. */
export function isMachineEnd(value: unknown): value is MachineEnd {
  return isAnsweredBy(value) && value.startsWith('machine_end_');
}

/**
 * What `call.NAME` reads: empty text for a name the call does not have or a value it does not know. Read
 * defensively, since `call` may come from a journal written by another build.
 */
export function readCall(call: CallInfo | undefined, name: string): string {
  switch (name) {
    case 'direction':
      return isCallDirection(call?.direction) ? call.direction : INBOUND_CALL.direction;
    case 'from':
    case 'to': {
      const value: unknown = call?.[name];
      return typeof value === 'string' ? value : '';
    }
    case 'answeredBy':
      return isAnsweredBy(call?.answeredBy) ? call.answeredBy : '';
    default: {
      const variable = varOf(name);
      return variable === undefined ? '' : readVar(call?.vars, variable);
    }
  }
}

// Own string properties only, as with slots: a variable named `constructor` is just an absent one.
function readVar(vars: unknown, name: string): string {
  if (typeof vars !== 'object' || vars === null || !Object.hasOwn(vars, name)) return '';
  const value: unknown = (vars as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
}

export function isCallName(name: string): name is CallName {
  return (CALL_NAMES as readonly string[]).includes(name);
}

/** The variable NAME of `vars.NAME` (after `call.`), well formed or not; undefined for any other name. */
export function varOf(name: string): string | undefined {
  return name.startsWith(VARS_PREFIX) ? name.slice(VARS_PREFIX.length) : undefined;
}

/** Whether `name` (after `call.`) is one a call may have: a known name, or a well-formed `vars.NAME`. */
export function isCallValue(name: string): boolean {
  const variable = varOf(name);
  return variable === undefined ? isCallName(name) : VAR_NAME.test(variable);
}
