/**
 * Callers' data at rest, end to end: a call journaled under JOURNAL_KEY leaves no number, key or word in clear in
 * the SQLite file; `switchboard calls export` decrypts with the key and withholds without it; `switchboard calls
 * erase --caller` deletes that caller's calls and says what it removed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readJournal } from '../../src/call/call-journal.ts';
import { generateKey, keyringFromEnv } from '../../src/journal/keyring.ts';
import { openStore } from '../../src/journal/open-store.ts';
import type { SealedStore } from '../../src/journal/sealed-store.ts';
import { memoryLogger } from '../../src/observability/logger.ts';
import { placeCall } from '../../src/simulator/caller.ts';
import { ToneTts } from '../fakes/tone-tts.ts';
import { testJournals } from '../fixtures/journals.ts';
import { startServer, type TestServer } from '../support/harness.ts';

const BIN = new URL('../../bin/switchboard.js', import.meta.url).pathname;
const CALLER = '+15557654321';
const tmp = mkdtempSync(join(tmpdir(), 'sb-at-rest-'));
const dbPath = join(tmp, 'calls.db');
const KEY = generateKey();

let store: SealedStore;
let server: TestServer;
let callId: string;

before(async () => {
  store = await openStore(`sqlite:${dbPath}`, {
    logger: memoryLogger().logger,
    keyring: keyringFromEnv({ JOURNAL_KEY: KEY }),
  });
  server = await startServer({ tts: new ToneTts({ msPerChar: 4 }), journals: await testJournals(store) });
  const result = await placeCall({
    url: server.url,
    flow: 'demo',
    from: CALLER,
    inputs: [{ kind: 'dtmf', keys: '1' }],
  });
  assert.equal(result.endedBy, 'agent');
  callId = result.callSid;
  await server.close();
  await store.close();
});

after(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string>) {
  const run = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, STORE_URL: `sqlite:${dbPath}`, JOURNAL_KEY: '', JOURNAL_KEY_FILE: '', ...env },
    encoding: 'utf8',
  });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

test('the database file holds the call, but not its number or what was pressed, in clear', async () => {
  const reopened = await openStore(`sqlite:${dbPath}`, {
    logger: memoryLogger().logger,
    keyring: keyringFromEnv({ JOURNAL_KEY: KEY }),
  });
  try {
    const records = await readJournal(reopened, callId);
    const start = records.find((r) => r.kind === 'start');
    assert.equal(start?.kind === 'start' && start.params.from, CALLER, 'the number is journaled, sealed');
    const dtmf = records.find((r) => r.kind === 'in' && r.event.type === 'dtmf');
    assert.ok(dtmf, 'the key press is journaled');
    const raw = (await reopened.raw.read(callId)).map((r) => r.line).join('\n');
    assert.ok(!raw.includes(CALLER), 'no caller number in the stored lines');
    assert.ok(!/"digit":"1"/.test(raw), 'no digit in the stored lines');
    assert.match(raw, /"sealed":"/);
  } finally {
    await reopened.close();
  }
  // WAL checkpointed at close: the file itself has no trace of the number either.
  assert.ok(!readFileSync(dbPath).includes(Buffer.from(CALLER)));
});

test('calls export decrypts with the key and withholds without it', () => {
  const keyed = cli(['calls', 'export', callId], { JOURNAL_KEY: KEY });
  assert.equal(keyed.code, 0, keyed.err);
  assert.ok(keyed.out.includes(CALLER));
  assert.ok(!keyed.out.includes('"withheld"'));
  const keyless = cli(['calls', 'export', callId], {});
  assert.equal(keyless.code, 0, keyless.err);
  assert.ok(!keyless.out.includes(CALLER));
  assert.match(keyless.out, /"withheld":"[0-9a-f]{8}"/);
});

test('replay runs the decrypted log, and refuses one whose fields are withheld, naming the key', () => {
  const keyed = join(tmp, 'keyed.jsonl');
  const keyless = join(tmp, 'keyless.jsonl');
  writeFileSync(keyed, cli(['calls', 'export', callId], { JOURNAL_KEY: KEY }).out);
  writeFileSync(keyless, cli(['calls', 'export', callId], {}).out);
  const replayed = cli(['replay', keyed], {});
  assert.equal(replayed.code, 0, replayed.out + replayed.err);
  const refused = cli(['replay', keyless], {});
  assert.equal(refused.code, 1);
  assert.match(refused.out, /JOURNAL_KEY_MISSING.*set JOURNAL_KEY/);
});

test('calls erase --caller deletes the caller calls and reports them; a bad number is a usage error', () => {
  assert.equal(cli(['calls', 'erase', '--caller', '555'], { JOURNAL_KEY: KEY }).code, 2);
  const erased = cli(['calls', 'erase', '--caller', CALLER], { JOURNAL_KEY: KEY });
  assert.equal(erased.code, 0, erased.err + erased.out);
  assert.match(erased.out, /erased 1 calls \(\d+ records\)/);
  assert.ok(erased.out.includes(callId));
  const again = cli(['calls', 'export', callId], { JOURNAL_KEY: KEY });
  assert.equal(again.code, 1);
  assert.match(again.err, /no journal/);
});
