/**
 * The calls API's dial routes: `POST /api/calls` places a call, `GET /api/calls/<key>` is one dial as journaled
 * (a placed call not heard of for a while is looked up at Twilio first), and `GET /api/calls?prefix=P` lists the
 * dials whose keys start with P, in key order, a page at a time (a campaign's, to take it up again). A dial is
 * answered without its numbers or variables: the caller of the API has them.
 */
import { SwitchboardError } from '../../errors.ts';
import type { JournalStore } from '../../journal/store.ts';
import { DIAL_PREFIX, readDial, type Dial } from '../../outbound/dial-journal.ts';
import { dialKeyOf } from '../../outbound/dial-request.ts';
import type { Dialer, DialResult } from '../../outbound/dialer.ts';

/** Dials listed per page at most. */
export const MAX_PAGE = 500;

/** A dial as the API answers it. */
export function dialView(dial: Dial): Record<string, unknown> {
  return {
    key: dial.key,
    callSid: dial.callSid,
    status: dial.status,
    answeredBy: dial.answeredBy,
    refused: dial.refused === null ? null : { twilioCode: dial.refused.twilioCode },
    requestedAt: dial.requestedAt,
    updatedAt: dial.updatedAt,
    endedAt: dial.endedAt,
  };
}

export function needDialer(dialer: Dialer | null): Dialer {
  if (dialer !== null) return dialer;
  throw new SwitchboardError(
    'CONFIG_INVALID',
    'placing calls needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN',
  );
}

export function dialResult(result: DialResult): Record<string, unknown> {
  return { callSid: result.callSid, idempotencyKey: result.key, created: result.created };
}

/** One dial, looked up at Twilio when stale and a dialer is there to do it. */
export async function oneDial(store: JournalStore, dialer: Dialer | null, rawKey: string): Promise<Dial> {
  const key = dialKeyOf(rawKey);
  const dial = key === null ? null : await (dialer ? dialer.state(key) : readDial(store, key));
  if (dial === null) throw new SwitchboardError('JOURNAL_NOT_FOUND', 'no dial with that key');
  return dial;
}

/** The dials whose keys start with `prefix`, after key `after`, at most `limit`; and where the next page starts. */
export async function listDials(
  store: JournalStore,
  query: URLSearchParams,
): Promise<{ dials: Record<string, unknown>[]; next: string | null }> {
  const prefix = query.get('prefix') ?? '';
  const after = query.get('after');
  const limit = Number(query.get('limit') ?? MAX_PAGE);
  if (prefix !== '' && dialKeyOf(prefix) === null) throw badQuery('prefix is not the start of a dial key');
  if (after !== null && dialKeyOf(after) === null) throw badQuery('after is not a dial key');
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE)
    throw badQuery(`limit is 1 to ${MAX_PAGE}`);
  const start = `${DIAL_PREFIX}${prefix}`;
  const ids = await store.callIds(after === null ? start : `${DIAL_PREFIX}${after}`, limit);
  const dials: Record<string, unknown>[] = [];
  for (const id of ids) {
    if (!id.startsWith(start)) return { dials, next: null };
    const dial = await readDial(store, id.slice(DIAL_PREFIX.length));
    if (dial !== null) dials.push(dialView(dial));
  }
  return { dials, next: ids.length < limit ? null : ids.at(-1)!.slice(DIAL_PREFIX.length) };
}

function badQuery(detail: string): SwitchboardError {
  return new SwitchboardError('HTTP_BAD_BODY', detail, { field: 'query' });
}
