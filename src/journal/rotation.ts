/**
 * Re-sealing every journal under the keyring's current key, after a new key was put first: `switchboard keys
 * rotate`. It walks the store one call at a time while servers keep running; each record is opened with the old
 * key that sealed it and sealed again under the current one, and replaced only if nobody changed it meanwhile.
 * Records written in clear before encryption was turned on are sealed too. Records whose key the keyring lacks
 * are left as they are and counted, so the operator learns a key is missing before dropping any.
 */
import { SwitchboardError } from '../errors.ts';
import type { Keyring } from './keyring.ts';
import { decodeRecord, encodeRecord } from './records.ts';
import { hasPersonalFields, openRecord, sealRecord, sealedWith } from './sealing.ts';
import type { JournalStore, LineRewrite } from './store.ts';

export interface Rotated {
  /** Calls looked at, and those with at least one record re-sealed. */
  calls: number;
  callsChanged: number;
  /** Records sealed under the current key by this run. */
  records: number;
  /** Records sealed under a key the keyring does not have: left as they are. */
  missingKey: number;
  /** Lines that do not decode (a torn last write) or whose seal does not open: left as they are. */
  unreadable: number;
}

const PAGE = 100;

/** `raw`: the store's lines as stored (SealedStore.raw). */
export async function rotateKeys(
  raw: JournalStore,
  keyring: Keyring,
  onCall?: (callId: string, done: Rotated) => void,
): Promise<Rotated> {
  const key = keyring.current;
  if (key === null) throw new SwitchboardError('CONFIG_INVALID', 'no journal key is set (JOURNAL_KEY)');
  const done: Rotated = { calls: 0, callsChanged: 0, records: 0, missingKey: 0, unreadable: 0 };
  let after: string | null = null;
  for (;;) {
    const ids = await raw.callIds(after, PAGE);
    for (const callId of ids) {
      const changes: LineRewrite[] = [];
      for (const row of await raw.read(callId)) {
        let record;
        try {
          record = decodeRecord(row.line);
        } catch {
          done.unreadable++;
          continue;
        }
        const sealedUnder = sealedWith(record);
        if (sealedUnder === key.id || (sealedUnder === null && !hasPersonalFields(record))) continue;
        if (sealedUnder !== null && !keyring.get(sealedUnder)) {
          done.missingKey++;
          continue;
        }
        let clear;
        try {
          clear = openRecord(record, keyring);
        } catch {
          done.unreadable++;
          continue;
        }
        changes.push({ seq: row.seq, from: row.line, to: encodeRecord(sealRecord(clear, key)) });
      }
      const replaced = changes.length === 0 ? 0 : await raw.rewrite(callId, changes);
      done.calls++;
      if (replaced > 0) done.callsChanged++;
      done.records += replaced;
      onCall?.(callId, done);
    }
    if (ids.length < PAGE) return done;
    after = ids.at(-1)!;
  }
}
