/**
 * A call's events and effects in words, as the calls timeline and `switchboard replay` show them: "caller pressed
 * 2", "web request place.10 answered 200", "said “…”". They are read from journals, which may hold types or
 * fields this build does not know, so every field is read defensively and an unknown type is named as it is.
 * Effects and the outcomes of actions are put in words by their actions (src/flow/actions/).
 */
import { ACTIONS, type Described, type Journaled } from './actions/index.ts';

export type { Described } from './actions/index.ts';

/** An event or effect as a journal carries it: an object with a type, its other fields unchecked. */
type Message = Journaled;

const said = (kind: Described['kind'], title: string, detail: string | null = null): Described => ({
  kind,
  title,
  detail,
});

/** An event the call's machine received, in words. */
export function describeEvent(event: Message): Described {
  const text = (key: string): string => show(event[key]);
  switch (event.type) {
    case 'call.start':
      // The direction only: the call's numbers are personal data, never put in words (nor are its env values).
      return said('event', isOutbound(event.call) ? 'outbound call answered' : 'call answered');
    case 'dtmf':
      return said('input', `caller pressed ${text('digit')}`);
    case 'utterance':
      return said('input', `caller said “${text('text')}”`, describeUnderstanding(event));
    case 'speech.start':
      return said('input', 'caller started speaking over the prompt');
    case 'played':
      return said('heard', `caller heard prompt ${text('mark')}`);
    case 'timer':
      return said('timer', `timer ${text('id')} fired`);
    case 'speech.failover':
      return said('event', `speech ${text('service')} failed over to ${text('to')}`);
    case 'resume':
      return said('event', 'call resumed from its journal');
    case 'answered':
      return said('event', `answered by ${text('answeredBy')}`);
    case 'giveUp':
      return said('event', "supervisor gave up: going to the flow's onGiveUp state");
    case 'hangup':
      return said('event', 'hang-up', text('reason'));
    default:
      return byAction(event) ?? said('event', `event ${event.type}`);
  }
}

/** How words were understood: `intent order (0.93); size=large`, or `no intent; ...`. */
export function describeUnderstanding(u: { readonly [key: string]: unknown }): string {
  const intent = u.intent === null || u.intent === undefined ? 'no intent' : `intent ${show(u.intent)}`;
  const confidence = typeof u.confidence === 'number' ? ` (${u.confidence.toFixed(2)})` : '';
  const entities = Object.entries((u.entities ?? {}) as Record<string, unknown>)
    .map(([k, v]) => `${k}=${show(v)}`)
    .join(', ');
  return `${intent}${confidence}${entities ? `; ${entities}` : ''}`;
}

/** An effect the call's machine asked for, in words. */
export function describeEffect(effect: Message): Described {
  return byAction(effect) ?? said('event', `effect ${effect.type}`);
}

/** An effect or an outcome event in the words of the action it belongs to; undefined when none has it. */
function byAction(m: Message): Described | undefined {
  const text = (key: string): string => show(m[key]);
  for (const action of ACTIONS) {
    // Own entries only: a journaled type such as "__proto__" or "toString" is no action's.
    const table = action.describe;
    const describe = table && Object.hasOwn(table, m.type) ? table[m.type] : undefined;
    if (describe) return describe(m, text);
  }
  return undefined;
}

/** A journaled `call.start`'s `call` says the call was placed by the server; read defensively. */
function isOutbound(call: unknown): boolean {
  return (
    typeof call === 'object' && call !== null && (call as { direction?: unknown }).direction === 'outbound'
  );
}

/** A journaled value as text: strings and numbers as they are, anything else as JSON. */
function show(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : JSON.stringify(value);
}
