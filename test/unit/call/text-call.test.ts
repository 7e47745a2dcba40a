/**
 * The example flows, driven turn by turn as text through the real language understanding and supervisor: once
 * matching exact examples only, and once more with each flow's trained intent model, which must not change
 * what the scripted turns do.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TextCall } from '../../../src/call/text-call.ts';
import { checkFlowText, compileFlow } from '../../../src/flow/index.ts';
import { FLOW_TRAINING_OPTIONS, flowTrainingData } from '../../../src/flow/training-data.ts';
import { ModelCache } from '../../../src/nlu/model-cache.ts';
import { IntentModel } from '../../../src/nlu/model-dir.ts';
import { SharedIntentModel } from '../../../src/nlu/shared-model.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { EXAMPLE_FLOWS, exampleFlowFile } from '../../fixtures/example-flows.ts';

/** Each flow's model while the trained-model scenarios run; empty while the exact-example ones do. */
const models = new Map<string, SharedIntentModel>();
/** Every call placed, so the suite can hang up the ones a scenario leaves open. */
const calls: TextCall[] = [];

function exampleFlow(id: string) {
  const result = checkFlowText(readFileSync(exampleFlowFile(id), 'utf8'));
  assert.ok(result.ok, JSON.stringify(!result.ok && result.findings));
  return compileFlow(result.flow);
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A text call on flows/<id>.json; the clock is fixed at noon on Wednesday 2026-11-25 (local time). */
function call(id: string) {
  const model = models.get(id);
  const said: string[] = [];
  const ends: string[] = [];
  const { logger, records } = memoryLogger();
  const requests: { url: string; body: unknown; key: string }[] = [];
  const c = new TextCall({
    compiled: exampleFlow(id),
    ...(model ? { model } : {}),
    logger,
    onSay: (text) => said.push(text),
    onEnd: (_reason, words) => ends.push(words),
    now: () => new Date(2026, 10, 25, 12, 0, 0).getTime(),
    env: {
      ORDERS_URL: 'http://orders.test',
      PIZZA_STAFF_LINE: '+15555550100',
      BILLING_URL: 'http://billing.test',
      SUPPORT_LINE: '+15555550199',
    },
    // A test double for the web services: orders are all number 42; account 1234567 owes, others are paid up;
    // account 999999 is unknown.
    http: (effect) => {
      requests.push({ url: effect.url, body: effect.body, key: effect.idempotencyKey });
      if (effect.url.includes('/accounts/999999')) return Promise.resolve({ ok: false, reason: 'HTTP 404' });
      if (effect.url.includes('/accounts/')) {
        const owes = effect.url.endsWith('/1234567');
        return Promise.resolve({
          ok: true,
          status: 200,
          slots: { balance: owes ? '12.50' : '0', due: '2026-12-15' },
        });
      }
      return Promise.resolve({ ok: true, status: 201, slots: { orderId: '42', minutes: '20' } });
    },
  });
  calls.push(c);
  c.start();
  const turn = async (input: string) => {
    if (input.startsWith('#')) c.press(input.slice(1));
    else c.say(input);
    await c.settled();
    return said.at(-1) ?? '';
  };
  return { c, said, ends, records, requests, turn };
}

function scenarios(): void {
  test('pizza by voice: intent, custom entity by synonym, number with validation, yes, order, discount', async () => {
    const { c, said, ends, requests, turn } = call('pizza');
    await settle();
    assert.match(said[0] ?? '', /^Thanks for calling Mario's/);
    assert.match(await turn("I'd like a pizza!"), /What size would you like/);
    assert.equal(c.state, 'size');
    assert.match(await turn('a family size one'), /^How many large pizzas\?/);
    assert.match(
      await turn('twelve'),
      /^We can deliver one to ten pizzas at a time\. How many large pizzas\?/,
    );
    assert.match(await turn('four please'), /^That is 4 large\./);
    await turn('yes that is right');
    assert.deepEqual(said.slice(-2), [
      'Good news: orders of three or more get ten percent off.',
      'Your order number is 4, 2. It will be ready in 20 minutes. Goodbye.',
    ]);
    assert.deepEqual(requests, [
      { url: 'http://orders.test/orders', body: { size: 'large', count: '4' }, key: 'text-call:place.11' },
    ]);
    assert.deepEqual(c.slots, { size: 'large', count: '4', orderId: '42', minutes: '20' });
    assert.deepEqual(ends, ['the flow ended the call']);
  });

  test('pizza by keypad, and the global operator intent from the middle of a collect', async () => {
    const keys = call('pizza');
    await settle();
    await keys.turn('#1');
    await keys.turn('#2');
    assert.equal(keys.c.slots.size, 'medium', 'key 2 is a synonym of medium');
    await keys.turn('#2#');
    await keys.turn('#1');
    assert.equal(keys.said.at(-1), 'Your order number is 4, 2. It will be ready in 20 minutes. Goodbye.');

    const human = call('pizza');
    await settle();
    await human.turn('order');
    assert.equal(human.c.state, 'size');
    assert.match(await human.turn('Talk to a person.'), /^Please hold/);
    assert.deepEqual(human.ends, ['transferred to +15555550100']);
    // The journal's end record has the typed reason a media call would have.
    assert.equal(human.c.ended, 'transferred');
  });

  test('appointment: a spoken date read back naturally, a time checked against opening hours', async () => {
    const { c, said, turn } = call('appointment');
    await settle();
    assert.match(said[0] ?? '', /Which day would you like/);
    assert.equal(
      await turn('next tuesday'),
      'Tuesday, December 1st, is that right? Say yes or press 1, or say no or press 2.',
    );
    assert.match(await turn('yes'), /^And at what time\?/);
    assert.match(await turn('at 7 pm'), /^Sorry, that is outside our opening hours\./);
    assert.equal(
      await turn('half past two in the afternoon'),
      'You are booked for Tuesday, December 1st at 2:30 PM. We will text you a reminder. Goodbye.',
    );
    assert.deepEqual(c.slots, { day: '2026-12-01', time: '14:30' });
  });

  test('appointment by keypad: the date as YYYYMMDD, no to the read-back asks again', async () => {
    const { c, turn } = call('appointment');
    await settle();
    await turn('#20261203');
    assert.equal(c.state, 'day');
    assert.match(await turn('#2'), /Which day would you like/);
    assert.equal(c.slots.day, undefined);
    assert.match(await turn('#20261204'), /^Friday, December 4th, is that right\?/);
    await turn('#1');
    assert.match(await turn('#0930'), /Friday, December 4th at 9:30 AM/);
  });

  test('support: an account number by keys, read back, looked up on the web: a balance, or paid up', async () => {
    const owes = call('support');
    await settle();
    await owes.turn('i have a question about my bill');
    assert.equal(await owes.turn('#1234567#'), 'That was 1, 2, 3, 4, 5, 6, 7. Is that right?');
    await owes.turn('yes');
    assert.deepEqual(owes.said.slice(-2), [
      'Your balance is 12.50 dollars, due on Tuesday, December 15th.',
      'Thanks for calling. Goodbye.',
    ]);
    assert.deepEqual(
      owes.requests.map((r) => r.url),
      ['http://billing.test/accounts/1234567'],
    );

    const paid = call('support');
    await settle();
    await paid.turn('#1');
    await paid.turn('five five five one two three four');
    await paid.turn('#1');
    assert.deepEqual(paid.said.slice(-2), ['Your account is paid in full.', 'Thanks for calling. Goodbye.']);
  });

  test('support: a failed lookup, a technical problem and "operator" all end in a transfer to a person', async () => {
    const failed = call('support');
    await settle();
    await failed.turn('#1');
    await failed.turn('#999999#');
    await failed.turn('#1');
    assert.deepEqual(failed.ends, ['transferred to +15555550199']);

    const tech = call('support');
    await settle();
    await tech.turn('my internet is down');
    assert.deepEqual(tech.ends, ['transferred to +15555550199']);

    const operator = call('support');
    await settle();
    await operator.turn('#1');
    await operator.turn('representative');
    assert.deepEqual(operator.ends, ['transferred to +15555550199']);
  });
}

describe('exact examples only', () => scenarios());

describe("with each flow's trained intent model", () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'switchboard-models-'));
    const cache = new ModelCache({ dir: root });
    for (const id of EXAMPLE_FLOWS) {
      const cached = await cache.ensure(id, flowTrainingData(exampleFlow(id).flow), FLOW_TRAINING_OPTIONS);
      models.set(id, new SharedIntentModel(await IntentModel.load(cached.dir), cached.version));
    }
  });
  after(async () => {
    for (const model of models.values()) model.retire();
    // A call holds its model until it ends: each model is freed once the last call on it hangs up.
    assert.ok([...models.values()].some((m) => !m.isReleased));
    for (const c of calls) c.hangup();
    await Promise.all([...models.values()].map((m) => m.released));
    models.clear();
    await rm(root, { recursive: true, force: true });
  });

  scenarios();

  test('words the flow never listed reach the intent they mean', async () => {
    const pizza = call('pizza');
    await pizza.c.settled();
    assert.equal(pizza.c.modelVersion, models.get('pizza')!.version);
    assert.match(await pizza.turn('hi, could I order a pizza please'), /What size would you like/);
    // A size the recognizer got slightly wrong still counts (fuzzy match within its bound).
    assert.match(await pizza.turn('lage please'), /^How many large pizzas\?/);
    const support = call('support');
    await support.c.settled();
    // Heard by the model, not said as an example: the global "operator" is checked before it transfers.
    assert.equal(
      await support.turn('put me through to a real person'),
      'Did you mean operator? Please say yes or no.',
    );
    assert.deepEqual(support.ends, []);
    await support.turn('yes');
    assert.deepEqual(support.ends, ['transferred to +15555550199']);
  });

  test('empty, huge, non-English and emoji turns get an answer and never break the call', async () => {
    const texts = ['', '   ', '我想订一个披萨', '🍕🍕🍕', '\u0000\uFFFF', 'pizza '.repeat(2000)];
    for (const [i, text] of texts.entries()) {
      const { c, said, turn, records } = call('pizza');
      await c.settled();
      const reply = await turn(text);
      assert.equal(said.length, 2, 'the agent answers');
      assert.equal(c.ended, null);
      assert.deepEqual(
        records.filter((r) => r.level === 'error'),
        [],
      );
      // 10 kB of "pizza" is a (long) way to say order; the rest mean nothing here.
      if (i < texts.length - 1) assert.match(reply, /^Sorry, I didn't catch that\./);
      else assert.equal(c.state, 'size');
    }
  });

  test('out-of-scope talk is a no-match, not a guess', async () => {
    const { c, said, turn } = call('pizza');
    await c.settled();
    assert.match(await turn("what's the weather like in paris today"), /^Sorry, I didn't catch that\. /);
    assert.equal(c.state, 'greet');
    assert.equal(said.length, 2);
  });
});

test("a text call's no-input timers, when on, run on the clock it is given (no real waiting)", async () => {
  const { ManualClock } = await import('../../fakes/manual-clock.ts');
  const clock = new ManualClock();
  const said: string[] = [];
  const c = new TextCall({
    compiled: exampleFlow('pizza'),
    logger: memoryLogger().logger,
    onSay: (text) => said.push(text),
    timers: true,
    clock,
    now: () => clock.now(),
    env: { ORDERS_URL: 'http://orders.test', PIZZA_STAFF_LINE: '+15555550100' },
  });
  c.start();
  await c.settled();
  const greeted = said.length;
  assert.equal(clock.pending, 1, 'the no-input timer is armed once the greeting is heard');
  await clock.tick(60_000);
  await c.settled();
  assert.ok(said.length > greeted, 'silence gets an apology and the question again');
  assert.match(said.at(-1) ?? '', /^Sorry/);
  c.hangup();
  await c.finished;
});
