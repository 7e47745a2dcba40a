/** Softphone page tokens: minted tokens verify until they expire; anything altered or malformed is refused. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallJournals } from '../../../src/call/journals.ts';
import { MemoryStore } from '../../../src/journal/memory.ts';
import { PageTokens, SOFTPHONE_TOKEN_PURPOSE } from '../../../src/server/softphone-token.ts';

/** Page tokens as a server over `store` keys them: derived from the store's shared secret. */
async function storeTokens(store: MemoryStore, owner: string): Promise<PageTokens> {
  const journals = new CallJournals(store, owner);
  await journals.init();
  return new PageTokens({ secret: () => journals.deriveKey(SOFTPHONE_TOKEN_PURPOSE) });
}

test('a minted token verifies until its expiry, then is refused', () => {
  let now = 1_000_000;
  const tokens = new PageTokens({ ttlMs: 60_000, now: () => now });
  const token = tokens.mint();
  assert.match(token, /^\d+\.[A-Za-z0-9_-]{43}$/);
  assert.equal(tokens.verify(token), true);
  now += 59_999;
  assert.equal(tokens.verify(token), true);
  now += 1;
  assert.equal(tokens.verify(token), false, 'expired');
});

test('a token from another process (another secret) is refused', () => {
  const token = new PageTokens().mint();
  assert.equal(new PageTokens().verify(token), false);
});

test('a token keyed by the store secret verifies after a restart and on another instance, not under another store', async () => {
  const store = new MemoryStore();
  const token = (await storeTokens(store, 'before-restart')).mint();
  assert.equal((await storeTokens(store, 'after-restart')).verify(token), true, 'same store, new process');
  assert.equal(
    (await storeTokens(store, 'other-instance')).verify(token),
    true,
    'same store, other instance',
  );
  assert.equal((await storeTokens(new MemoryStore(), 'elsewhere')).verify(token), false, 'another store');
  // Derived for this purpose only: the raw store secret is not the key.
  assert.equal(new PageTokens({ secret: await store.secret() }).verify(token), false, 'raw secret');
});

test('tampered tokens are refused: a later expiry, or a changed mac', () => {
  const tokens = new PageTokens();
  const token = tokens.mint();
  const [expiry, mac] = token.split('.') as [string, string];
  assert.equal(tokens.verify(`${Number(expiry) + 1}.${mac}`), false, 'expiry moved');
  const flipped = (mac[0] === 'A' ? 'B' : 'A') + mac.slice(1);
  assert.equal(tokens.verify(`${expiry}.${flipped}`), false, 'mac changed');
});

test('malformed tokens are refused without throwing', () => {
  const tokens = new PageTokens();
  const mac = tokens.mint().split('.')[1]!;
  for (const bad of [
    undefined,
    null,
    '',
    '.',
    'abc',
    `.${mac}`,
    `12.${mac}=`,
    `-5.${mac}`,
    `1e9.${mac}`,
    `${'9'.repeat(16)}.${mac}`,
    `123.${mac.slice(1)}`,
    `123.${mac}.x`,
    'x'.repeat(1000),
  ]) {
    assert.equal(tokens.verify(bad), false, String(bad));
  }
});
