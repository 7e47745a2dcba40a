/** Journal keys and the sealing of records' personal fields (AES-256-GCM). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isSwitchboardError } from '../../../src/errors.ts';
import { generateKey, Keyring, keyringFromEnv, parseKey } from '../../../src/journal/keyring.ts';
import {
  decodeRecord,
  encodeRecord,
  SEALED_VERSION,
  type JournalRecord,
} from '../../../src/journal/records.ts';
import { openRecord, sealRecord, sealedWith } from '../../../src/journal/sealing.ts';

const KEY_A = parseKey('a'.repeat(64), 'test');
const KEY_B = parseKey('b'.repeat(64), 'test');
const base = { v: 1, callId: 'CA1', at: 1000 };
const RECORDS: JournalRecord[] = [
  {
    ...base,
    seq: 1,
    kind: 'start',
    flow: 'pizza',
    flowVersion: 2,
    modelVersion: null,
    params: { from: '+15551234567' },
  },
  {
    ...base,
    seq: 2,
    kind: 'in',
    event: { type: 'call.start', at: 1000, env: { API_TOKEN: 'secret-token' } },
  },
  { ...base, seq: 3, kind: 'in', event: { type: 'speech', at: 1000, text: 'my pin is 4321' } },
  { ...base, seq: 4, kind: 'eff', key: 'CA1:m1', effect: { type: 'say', mark: 'm1', text: 'You said 4321' } },
  { ...base, seq: 5, kind: 'snap', upTo: 3, snapshot: { context: { slots: { pin: '4321' } } } },
  { ...base, seq: 6, kind: 'state', in: 3, state: 'confirm' },
];

test('sealed records keep their structure in clear and hide every personal value', () => {
  for (const record of RECORDS) {
    const sealed = sealRecord(record, KEY_A);
    const line = encodeRecord(sealed);
    for (const secret of ['+15551234567', 'secret-token', '4321']) {
      assert.ok(!line.includes(secret), `record ${record.seq} shows ${secret}: ${line}`);
    }
    assert.equal(decodeRecord(line).kind, record.kind);
    if (record.kind === 'state') {
      assert.deepEqual(sealed, record, 'a record with nothing personal is stored as it was');
      continue;
    }
    assert.equal(sealed.v, SEALED_VERSION);
    assert.equal(sealedWith(sealed), KEY_A.id);
    if (record.kind === 'in') assert.equal((sealed as typeof record).event.type, record.event.type);
    if (record.kind === 'eff') assert.equal((sealed as typeof record).effect.type, 'say');
  }
});

test('a sealed record opens to the record it was, under the key that sealed it', () => {
  const keyring = new Keyring([KEY_B, KEY_A]);
  for (const record of RECORDS) {
    const stored = decodeRecord(encodeRecord(sealRecord(record, KEY_A)));
    assert.deepEqual(openRecord(stored, keyring), record);
  }
});

test('without its key a record is read with its personal fields withheld, naming the key', () => {
  const stored = decodeRecord(encodeRecord(sealRecord(RECORDS[2]!, KEY_A)));
  const opened = openRecord(stored, new Keyring([KEY_B]));
  assert.equal(opened.withheld, KEY_A.id);
  assert.deepEqual((opened as { event: unknown }).event, { type: 'speech' });
  assert.equal(openRecord(stored, Keyring.empty()).withheld, KEY_A.id);
});

test('a sealed field altered, or moved to another record, is JOURNAL_CORRUPT', () => {
  const keyring = new Keyring([KEY_A]);
  const sealed = sealRecord(RECORDS[2]!, KEY_A);
  const body = Buffer.from(sealed.sealed!.split(':')[1]!, 'base64');
  body[body.length - 1]! ^= 1;
  const altered = { ...sealed, sealed: `${KEY_A.id}:${body.toString('base64')}` };
  // A tag cut to 4 bytes, which GCM would otherwise accept as a (weaker) tag.
  const short = { ...sealed, sealed: `${KEY_A.id}:${body.subarray(0, 12 + 4).toString('base64')}` };
  for (const bad of [altered, short, { ...sealed, seq: 9 }, { ...sealed, callId: 'CA2' }]) {
    assert.throws(
      () => openRecord(bad, keyring),
      (err) => isSwitchboardError(err, 'JOURNAL_CORRUPT'),
    );
  }
});

test('each seal uses a fresh nonce: the same record seals to different text', () => {
  assert.notEqual(sealRecord(RECORDS[2]!, KEY_A).sealed, sealRecord(RECORDS[2]!, KEY_A).sealed);
});

test('keys come from JOURNAL_KEY (newest first) and JOURNAL_KEY_FILE; a bad key is refused without echoing it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-keys-'));
  try {
    const file = join(dir, 'keys');
    writeFileSync(file, `# newest first\n${'c'.repeat(64)}\n\n${'a'.repeat(64)}  # the old one\n`);
    const ring = keyringFromEnv({ JOURNAL_KEY: `${'b'.repeat(64)}`, JOURNAL_KEY_FILE: file });
    assert.equal(ring.size, 3);
    assert.equal(ring.current!.id, KEY_B.id);
    assert.ok(ring.get(KEY_A.id));
    assert.equal(keyringFromEnv({}).current, null);
    const bad = 'z'.repeat(64);
    assert.throws(
      () => keyringFromEnv({ JOURNAL_KEY: bad }),
      (err) => isSwitchboardError(err, 'CONFIG_INVALID') && !err.message.includes(bad),
    );
    assert.throws(
      () => keyringFromEnv({ JOURNAL_KEY_FILE: join(dir, 'missing') }),
      (err) => isSwitchboardError(err, 'CONFIG_INVALID'),
    );
    assert.match(generateKey(), /^[0-9a-f]{64}$/);
    assert.notEqual(generateKey(), generateKey());
    assert.notEqual(KEY_A.id, KEY_B.id);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a record whose sealed field is not text is JOURNAL_CORRUPT when decoded, not a TypeError later', () => {
  const line = encodeRecord({ ...sealRecord(RECORDS[2]!, KEY_A), sealed: 5 } as unknown as JournalRecord);
  assert.throws(
    () => decodeRecord(line),
    (err) => isSwitchboardError(err, 'JOURNAL_CORRUPT'),
  );
});
