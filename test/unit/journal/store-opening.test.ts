/** Opening stores: the secret, concurrent creation, reopening, a newer schema refused, openStore's URLs. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isSwitchboardError } from '../../../src/errors.ts';
import { openStore } from '../../../src/journal/open-store.ts';
import { PostgresStore } from '../../../src/journal/postgres.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { rejectsWith, stored, storeSuites } from './store-fixture.ts';

storeSuites(({ backend, instance, stores }) => {
  test('the secret is 32 bytes, the same for every instance, and kept across reopening', async () => {
    const a = await instance();
    const b = await instance();
    const secret = await a.secret();
    assert.equal(secret.length, 32);
    assert.deepEqual(await b.secret(), secret);
    await a.close();
    await b.close();
    assert.deepEqual(await (await instance()).secret(), secret);
  });

  test('two instances creating the store at the same time agree on it', async () => {
    const a = backend.make();
    const b = backend.make();
    stores.push(a, b);
    await Promise.all([a.open(), b.open()]);
    assert.deepEqual(await a.secret(), await b.secret());
    const lease = await a.acquire('CA1', 'a');
    await b.append(await b.acquire('CA1', 'b'), [stored('CA1', 1)]);
    await rejectsWith(a.append(lease, [stored('CA1', 2)]), 'JOURNAL_FENCED');
  });

  test('closing and reopening keeps calls, records and tokens', async () => {
    const store = await instance();
    const lease = await store.acquire('CA1', 'i1');
    await store.append(lease, [stored('CA1', 1, 'start'), stored('CA1', 2, 'end')]);
    const summary = await store.summary('CA1');
    const records = await store.read('CA1');
    await store.close();
    const again = await instance();
    assert.deepEqual(await again.summary('CA1'), summary);
    assert.deepEqual(await again.read('CA1'), records);
    assert.equal((await again.acquire('CA1', 'i2')).token, 2);
  });

  test('a store made by a newer schema version is refused on open', async () => {
    const store = await instance();
    await store.close();
    await backend.setSchemaVersion(99);
    const err = await rejectsWith(instance(), 'STORE_VERSION_UNSUPPORTED');
    assert.equal(err.version, 99);
    assert.match(String(err.message), /schema version 99/);
  });
});

test('openStore refuses a URL that is neither sqlite: nor postgres://', async () => {
  const { logger } = memoryLogger();
  for (const url of ['mysql://x', 'sqlite:', '', 'postgres:/nohost']) {
    const err = await rejectsWith(openStore(url, { logger }), 'CONFIG_INVALID');
    assert.match(String(err.message), /STORE_URL must be sqlite:PATH, postgres:\/\/\.\.\. or memory:/);
  }
});

test('openStore opens an SQLite file, making its directories', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-open-'));
  try {
    const store = await openStore(`sqlite:${join(dir, 'a', 'b', 'journal.db')}`, {
      logger: memoryLogger().logger,
    });
    assert.equal(store.kind, 'sqlite');
    assert.equal(store.location, join(dir, 'a', 'b', 'journal.db'));
    assert.equal((await store.acquire('CA1', 'i1')).token, 1);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unreachable PostgreSQL is STORE_UNAVAILABLE and the password appears nowhere', async () => {
  const url = 'postgres://u:secretpw@127.0.0.1:1/x';
  const { logger, records } = memoryLogger();
  try {
    await openStore(url, { logger });
    assert.fail('opened a store on a closed port');
  } catch (err) {
    assert.ok(isSwitchboardError(err, 'STORE_UNAVAILABLE'), String(err));
    assert.ok(err.cause, 'the driver error is kept as the cause');
    assert.doesNotMatch(err.message, /secretpw/);
    assert.doesNotMatch(JSON.stringify(err.data), /secretpw/);
    assert.match(err.message, /127\.0\.0\.1:1/);
  }
  assert.doesNotMatch(JSON.stringify(records), /secretpw/);
  const store = new PostgresStore(url, { logger });
  assert.equal(store.kind, 'postgres');
  assert.doesNotMatch(store.location, /secretpw/);
  assert.match(store.location, /^postgres:\/\/u@127\.0\.0\.1:1\/x/);
  await store.close();
});
