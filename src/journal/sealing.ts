/**
 * Personal fields of journal records, sealed at rest with AES-256-GCM. What a call said and pressed, the numbers
 * it came from and went to, its slot values and the flow's environment values live in a few fields: the `start`
 * record's parameters, the body of each event (`in`) and effect (`eff`) after its type, and the machine's
 * snapshot (`snap`). Those are encrypted together into one `sealed` field; the rest of the record (kind,
 * sequence, time, event and effect types, states, timers, end reasons) stays in clear, so a journal's structure
 * can be read and checked without the key.
 *
 * The sealed text is `<key id>:<base64 of nonce (12 bytes) | tag (16) | ciphertext>`, with the call id, sequence
 * number and kind as additional data: a sealed field moved to another record does not open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SwitchboardError } from '../errors.ts';
import type { JournalKey, Keyring } from './keyring.ts';
import { JOURNAL_VERSION, SEALED_VERSION, type JournalRecord } from './records.ts';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** The record with its personal fields sealed under `key`; a record with none is returned as it is. */
export function sealRecord(record: JournalRecord, key: JournalKey): JournalRecord {
  const parts = split(record);
  if (parts === null) return record;
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.secret, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(record));
  const body = Buffer.concat([cipher.update(JSON.stringify(parts.personal), 'utf8'), cipher.final()]);
  const sealed = `${key.id}:${Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64')}`;
  return { ...parts.clear, v: SEALED_VERSION, sealed };
}

/**
 * The record with its personal fields back in place. Sealed under a key the keyring lacks: the record as stored,
 * personal fields left out, with `withheld` naming the key. A sealed field that does not open under its key
 * (altered, or moved from another record) is JOURNAL_CORRUPT.
 */
export function openRecord(record: JournalRecord, keyring: Keyring): JournalRecord {
  const { sealed, ...clear } = record;
  if (sealed === undefined) return record;
  const colon = sealed.indexOf(':');
  const id = sealed.slice(0, colon);
  const key = colon > 0 ? keyring.get(id) : undefined;
  if (!key) return { ...clear, withheld: colon > 0 ? id : 'unknown' };
  const bytes = Buffer.from(sealed.slice(colon + 1), 'base64');
  let personal: unknown;
  try {
    if (bytes.length < NONCE_BYTES + TAG_BYTES) throw new Error('too short');
    // The tag's length is fixed: GCM would otherwise take a shorter one, which is easier to forge.
    const decipher = createDecipheriv('aes-256-gcm', key.secret, bytes.subarray(0, NONCE_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(additionalData(record));
    decipher.setAuthTag(bytes.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
    const text = Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES + TAG_BYTES)), decipher.final()]);
    personal = JSON.parse(text.toString('utf8'));
  } catch {
    throw new SwitchboardError('JOURNAL_CORRUPT', 'sealed fields do not open under their key', {
      callId: record.callId,
      seq: record.seq,
      key: id,
    });
  }
  return { ...clear, ...(personal as object), v: JOURNAL_VERSION };
}

/** The id of the key a stored record is sealed under, or null when it is in clear. */
export function sealedWith(record: JournalRecord): string | null {
  return record.sealed === undefined ? null : record.sealed.slice(0, record.sealed.indexOf(':'));
}

/** A record has personal fields when split() finds any: the ones sealing would encrypt. */
export function hasPersonalFields(record: JournalRecord): boolean {
  return split(record) !== null;
}

/** The record in clear with its personal fields stubbed out, and those fields' full values. */
function split(record: JournalRecord): { clear: JournalRecord; personal: Record<string, unknown> } | null {
  switch (record.kind) {
    case 'start':
      return Object.keys(record.params).length === 0
        ? null
        : { clear: { ...record, params: {} }, personal: { params: record.params } };
    case 'in':
      return Object.keys(record.event).length <= 1
        ? null
        : { clear: { ...record, event: { type: record.event.type } }, personal: { event: record.event } };
    case 'eff':
      return Object.keys(record.effect).length <= 1
        ? null
        : { clear: { ...record, effect: { type: record.effect.type } }, personal: { effect: record.effect } };
    case 'snap':
      return { clear: { ...record, snapshot: null }, personal: { snapshot: record.snapshot } };
    default:
      return null;
  }
}

function additionalData(record: JournalRecord): Buffer {
  return Buffer.from(`${record.callId}\n${record.seq}\n${record.kind}`, 'utf8');
}
