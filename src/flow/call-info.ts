/**
 * How the call reached its flow: `{{call.direction}}`, `{{call.from}}` and `{{call.to}}` in templates, and
 * `call.direction == "outbound"` in conditions. The call's runner captures them when the call starts; they ride
 * on `call.start` into the machine's context, as the environment does, so a replay reads the same values. The
 * numbers are the caller's personal data: they live only in journal fields that are sealed at rest, never in a
 * log line's text nor in an event described in words.
 */
/** Prefix of a template name or condition operand read from the call itself: `{{call.from}}`. */
export const CALL_PREFIX = 'call.';

/** The names after `call.`, in the order they are listed to an author. */
export const CALL_NAMES = ['direction', 'from', 'to'] as const;
export type CallName = (typeof CALL_NAMES)[number];

export type CallDirection = 'inbound' | 'outbound';

/**
 * The call as its flow sees it. `from` and `to` are E.164 numbers or client identities, left out when unknown
 * (a text chat, the softphone).
 */
export interface CallInfo {
  direction: CallDirection;
  from?: string;
  to?: string;
}

/** A call of today's kind: dialled in, its numbers unknown. What a `call.start` without `call` means. */
export const INBOUND_CALL: CallInfo = Object.freeze({ direction: 'inbound' });

export function isCallDirection(value: unknown): value is CallDirection {
  return value === 'inbound' || value === 'outbound';
}

/**
 * What `call.NAME` reads: empty text for a name the call does not have or a number it does not know. Read
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
    default:
      return '';
  }
}

export function isCallName(name: string): name is CallName {
  return (CALL_NAMES as readonly string[]).includes(name);
}
