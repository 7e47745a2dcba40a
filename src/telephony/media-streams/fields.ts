/**
 * Field checks shared by the parsers of both directions. Each throws MEDIA_BAD_MESSAGE naming the field path;
 * values go to `data`, never to the message.
 */
import { SwitchboardError } from '../../errors.ts';
import { MAX_MESSAGE_BYTES } from './messages.ts';
import type { Json } from './messages.ts';
import { isBase64 } from './payload.ts';

export function badMessage(
  path: string,
  event: string,
  extra: Record<string, unknown> = {},
): SwitchboardError {
  return new SwitchboardError('MEDIA_BAD_MESSAGE', path, { field: path, event, ...extra });
}

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function objectField(o: Json, key: string, path: string, event: string): Json {
  const v = o[key];
  if (!isObject(v)) throw badMessage(path, event);
  return v;
}

export function stringField(o: Json, key: string, path: string, event: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw badMessage(path, event);
  return v;
}

/** A non-empty string: ids and names that mean nothing when empty. */
export function idField(o: Json, key: string, path: string, event: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) throw badMessage(path, event);
  return v;
}

/**
 * Twilio sends counters as strings of digits ("42"); accept real numbers too. Digits are summed by hand: cheaper
 * than a regex test plus Number(), and it rejects "", "-1", "1e3", " 1" and "0x1" on the way.
 */
export function uintField(o: Json, key: string, path: string, event: string): number {
  const v = o[key];
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && v >= 0) return v;
    throw badMessage(path, event);
  }
  // 15 digits always fit in a safe integer.
  if (typeof v !== 'string' || v.length === 0 || v.length > 15) throw badMessage(path, event);
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const d = v.charCodeAt(i) - 48;
    if (d < 0 || d > 9) throw badMessage(path, event);
    n = n * 10 + d;
  }
  return n;
}

export function payloadField(o: Json, path: string, event: string): string {
  const payload = stringField(o, 'payload', path, event);
  if (!isBase64(payload)) {
    throw new SwitchboardError('MEDIA_BAD_PAYLOAD', path, { field: path, event, length: payload.length });
  }
  return payload;
}

function toText(raw: string | Buffer): string {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  // A string's length never exceeds its UTF-8 byte count, so this never rejects a message within the limit.
  if (text.length > MAX_MESSAGE_BYTES) {
    throw new SwitchboardError('MEDIA_TOO_LARGE', undefined, {
      length: text.length,
      limit: MAX_MESSAGE_BYTES,
    });
  }
  return text;
}

export function parseObject(raw: string | Buffer): Json {
  let value: unknown;
  try {
    value = JSON.parse(toText(raw));
  } catch (err) {
    if (err instanceof SwitchboardError) throw err;
    throw new SwitchboardError('MEDIA_BAD_JSON', 'not JSON', {}, { cause: err });
  }
  if (!isObject(value)) throw new SwitchboardError('MEDIA_BAD_JSON', 'not a JSON object');
  return value;
}

export function unknownEvent(event: unknown): SwitchboardError {
  // The event name is untrusted input: keep it out of the message and bound its size in data.
  const shown =
    typeof event === 'string' ? event.slice(0, 64) : event === undefined ? undefined : typeof event;
  return new SwitchboardError('MEDIA_UNKNOWN_EVENT', undefined, { event: shown });
}
