/**
 * The keys effects are journaled under, and the prompts effects speak, as the actions that own the effects give
 * them. Journals written by earlier builds depend on these keys, so they are pinned here byte for byte.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACTIONS } from '../../../src/flow/actions/index.ts';
import { effectKey, spokenPrompt, type Effect } from '../../../src/flow/index.ts';

const CALL = 'CA' + 'd'.repeat(32);

test('every effect is journaled under the key it always had', () => {
  const cases: [Effect, string][] = [
    [{ type: 'say', text: 'Hello.', mark: 'menu.3' }, `${CALL}:menu.3`],
    [{ type: 'clear' }, `${CALL}:clear`],
    [{ type: 'timer.start', id: 'menu.4', ms: 5000 }, `${CALL}:timer.start:menu.4`],
    [{ type: 'timer.cancel', id: 'menu.4' }, `${CALL}:timer.cancel:menu.4`],
    [
      {
        type: 'http',
        id: 'submit.5',
        idempotencyKey: 'the-request-key',
        method: 'POST',
        url: 'https://example.test/x',
        headers: {},
        body: null,
        timeoutMs: 1000,
        retries: 0,
        map: {},
      },
      'the-request-key',
    ],
    [{ type: 'transfer', id: 'staff.6', to: '+15555550100' }, `${CALL}:staff.6`],
    [{ type: 'hangup' }, `${CALL}:hangup`],
  ];
  for (const [effect, key] of cases) assert.equal(effectKey(CALL, effect), key, effect.type);
});

test('every effect an action carries out has a journal key from the same action', () => {
  for (const action of ACTIONS) {
    assert.deepEqual(
      Object.keys(action.journalKeys ?? {}).sort(),
      Object.keys(action.run ?? {}).sort(),
      action.name,
    );
  }
});

test('an effect no action owns has no key', () => {
  assert.throws(() => effectKey(CALL, { type: 'nonsense' } as unknown as Effect), {
    code: 'CALL_ACTOR_FAILED',
  });
});

test('a spoken prompt is told from the other effects, also as a journal carries it', () => {
  assert.deepEqual(spokenPrompt({ type: 'say', text: 'Hello.', mark: 'menu.3', voice: 'x' }), {
    mark: 'menu.3',
    text: 'Hello.',
  });
  assert.deepEqual(spokenPrompt({ type: 'say', mark: 7 }), { mark: '', text: '' });
  assert.equal(spokenPrompt({ type: 'clear' }), null);
  assert.equal(spokenPrompt({ type: 'timer.start', id: 'a', ms: 1 }), null);
});
