/**
 * A call's events and effects in words, as the calls timeline and `switchboard replay` show them: "caller pressed
 * 2", "web request place.10 answered 200", "said “…”". They are read from journals, which may hold types or
 * fields this build does not know, so every field is read defensively and an unknown type is named as it is.
 */

/** An event or effect in words. */
export interface Described {
  /** What sort of thing it is, for grouping and styling: caller input, a prompt, a web request, ... */
  kind: 'input' | 'heard' | 'prompt' | 'web' | 'timer' | 'event';
  title: string;
  /** More about it, when there is more: how words were understood, a prompt's mark, a failure's reason. */
  detail: string | null;
}

/** An event or effect as a journal carries it: an object with a type, its other fields unchecked. */
type Message = { readonly type: string; readonly [key: string]: unknown };

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
      return said('event', 'call answered');
    case 'dtmf':
      return said('input', `caller pressed ${text('digit')}`);
    case 'utterance':
      return said('input', `caller said “${text('text')}”`, describeUnderstanding(event));
    case 'played':
      return said('heard', `caller heard prompt ${text('mark')}`);
    case 'timer':
      return said('timer', `timer ${text('id')} fired`);
    case 'http.done': {
      const slots = Object.keys(event.slots ?? {});
      return said(
        'web',
        `web request ${text('id')} answered ${text('status')}`,
        slots.length > 0 ? `slots set: ${slots.join(', ')}` : null,
      );
    }
    case 'http.failed':
      return said('web', `web request ${text('id')} failed`, text('reason'));
    case 'transfer.failed':
      return said('event', 'transfer failed', text('reason'));
    case 'speech.failover':
      return said('event', `speech ${text('service')} failed over to ${text('to')}`);
    case 'resume':
      return said('event', 'call resumed from its journal');
    case 'giveUp':
      return said('event', "supervisor gave up: going to the flow's onGiveUp state");
    case 'hangup':
      return said('event', 'hang-up', text('reason'));
    default:
      return said('event', `event ${event.type}`);
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
  const text = (key: string): string => show(effect[key]);
  switch (effect.type) {
    case 'say':
      return said('prompt', `said “${text('text')}”`, `mark ${text('mark')}`);
    case 'clear':
      return said('prompt', 'audio cleared (barge-in)');
    case 'timer.start':
      return said('timer', `timer ${text('id')} armed for ${text('ms')} ms`);
    case 'timer.cancel':
      return said('timer', `timer ${text('id')} cancelled`);
    case 'http':
      return said(
        'web',
        `web request ${text('id')}: ${text('method')} ${where(text('url'))}`,
        `idempotency key ${text('idempotencyKey')}`,
      );
    case 'hangup':
      return said('event', 'agent hangs up');
    case 'transfer':
      // The number is not shown: it may be a person's own.
      return said('event', 'transfer asked for');
    default:
      return said('event', `effect ${effect.type}`);
  }
}

/** The request's origin and path; the query (which may carry a caller's data) and any credentials left out. */
function where(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url.split('?')[0] ?? '';
  }
}

/** A journaled value as text: strings and numbers as they are, anything else as JSON. */
function show(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : JSON.stringify(value);
}
