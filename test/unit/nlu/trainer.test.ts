import assert from 'node:assert/strict';
import { test } from 'node:test';

import { isSwitchboardError } from '../../../src/errors.ts';
import type { ErrorCode } from '../../../src/errors.ts';
import {
  DEFAULT_FEATURIZER,
  Featurizer,
  checkWeights,
  forward,
  forwardSparse,
  predict,
  train,
} from '../../../src/nlu/index.ts';
import type { TrainedModel, TrainingData, TrainingOptions } from '../../../src/nlu/index.ts';

const INTENTS: Record<string, string[]> = {
  check_balance: [
    'what is my account balance',
    'how much money do I have',
    'check my balance please',
    'tell me my current balance',
    'what is left in my checking account',
    'show me how much is in my savings',
    'balance inquiry',
    'how much is in my account right now',
    'I want to know my balance',
    'can you read me my balance',
  ],
  transfer_money: [
    'transfer money to my savings',
    'send fifty dollars to john',
    'move money between my accounts',
    'I want to make a transfer',
    'wire some funds to my sister',
    'pay my friend twenty dollars',
    'transfer one hundred dollars to checking',
    'send money to another account',
    'can I move cash to savings',
    'make a payment to my landlord',
  ],
  lost_card: [
    'I lost my credit card',
    'my card was stolen',
    'I cannot find my debit card',
    'report a lost card',
    'someone stole my wallet with my card',
    'block my card please',
    'my bank card is missing',
    'freeze my card it was stolen',
    'I think I dropped my card somewhere',
    'cancel my lost card',
  ],
  opening_hours: [
    'what time do you open',
    'when does the branch close',
    'what are your opening hours',
    'are you open on sunday',
    'when are you open',
    'what time does the bank close today',
    'hours of the branch on saturday',
    'is the office open tomorrow morning',
    'how late are you open',
    'opening times for the downtown branch',
  ],
};

const PARAPHRASES: [string, string][] = [
  ['how much money is in my account', 'check_balance'],
  ['what is my balance', 'check_balance'],
  ['tell me how much I have in savings', 'check_balance'],
  ['please send money to my brother', 'transfer_money'],
  ['transfer twenty dollars to my savings account', 'transfer_money'],
  ['I want to move money to checking', 'transfer_money'],
  ['my debit card was stolen', 'lost_card'],
  ['I lost my card', 'lost_card'],
  ['please block my stolen credit card', 'lost_card'],
  ['what time do you close', 'opening_hours'],
  ['are you open on saturday', 'opening_hours'],
  ['when does the downtown branch open', 'opening_hours'],
];

const OUT_OF_SCOPE = [
  'what is the weather like tomorrow',
  'tell me a joke',
  'play some music',
  'how do I bake bread',
  'who won the football game',
  'set an alarm for six',
  'what is the capital of france',
  'translate hello into spanish',
  'recommend a good movie',
  'how tall is mount everest',
  'order a pizza',
  'what is your favorite color',
];

const UNRELATED = [
  'asdf qwer zxcv',
  'xkcd blorp fnord',
  'the quick brown fox jumps over the lazy dog',
  'will it rain this weekend',
  'sing me a song',
  'how many legs does a spider have',
  'book a flight to paris',
  'zzzz kkkk pppp',
];

const DATA: TrainingData = { intents: INTENTS };
// Small and fast; the defaults are tuned for thousands of examples.
const FAST: TrainingOptions = { hidden: 32, epochs: 80, batchSize: 8, learningRate: 0.01, patience: 5 };
const featurizer = new Featurizer(DEFAULT_FEATURIZER);

function expectCode(fn: () => unknown, code: ErrorCode): Error {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(isSwitchboardError(caught, code), `expected ${code}, got ${String(caught)}`);
  return caught;
}

test('a small 4-intent set trains to 100% on held-out paraphrases', () => {
  const model = train(DATA, FAST);
  assert.deepEqual(model.labels, ['check_balance', 'lost_card', 'opening_hours', 'transfer_money']);
  assert.equal(model.metrics.examples, 40);
  assert.equal(model.metrics.validationAccuracy, 1);
  assert.ok(model.metrics.trainingMs < 10_000, `training took ${model.metrics.trainingMs} ms`);
  const wrong = PARAPHRASES.filter(([text, intent]) => {
    const probs = forwardSparse(
      model.weights,
      featurizer.sparse(text).indices,
      featurizer.sparse(text).values,
    );
    return model.labels[probs.indexOf(Math.max(...probs))] !== intent;
  });
  assert.deepEqual(wrong, []);
  // Without out-of-scope data the threshold is a low percentile of correct confidences: most paraphrases pass.
  const accepted = PARAPHRASES.filter(([text, intent]) => predict(model, featurizer, text).intent === intent);
  assert.ok(accepted.length >= PARAPHRASES.length - 2, `accepted ${accepted.length}`);
  assert.match(model.dataHash, /^[0-9a-f]{64}$/);
});

test('training is deterministic for a seed and differs across seeds', () => {
  const a = train(DATA, { ...FAST, epochs: 5, seed: 7 });
  const b = train(DATA, { ...FAST, epochs: 5, seed: 7 });
  const c = train(DATA, { ...FAST, epochs: 5, seed: 8 });
  assert.deepEqual(Buffer.from(a.weights.w1.buffer), Buffer.from(b.weights.w1.buffer));
  assert.deepEqual(Buffer.from(a.weights.w2.buffer), Buffer.from(b.weights.w2.buffer));
  assert.equal(a.threshold, b.threshold);
  assert.equal(a.dataHash, b.dataHash);
  assert.notDeepEqual(Buffer.from(a.weights.w1.buffer), Buffer.from(c.weights.w1.buffer));
  assert.notEqual(a.dataHash, c.dataHash, 'the seed is part of the options hashed');
});

test('the data hash ignores key order and blank examples but not content', () => {
  const reordered = Object.fromEntries(Object.entries(INTENTS).reverse());
  const withBlank = { ...INTENTS, lost_card: [...INTENTS['lost_card']!, '   '] };
  const changed = { ...INTENTS, lost_card: [...INTENTS['lost_card']!, 'my card is gone'] };
  const hash = (intents: Record<string, string[]>): string =>
    train({ intents }, { ...FAST, epochs: 1 }).dataHash;
  const base = hash(INTENTS);
  assert.equal(hash(reordered), base);
  assert.equal(hash(withBlank), base);
  assert.notEqual(hash(changed), base);
});

test('forward and forwardSparse agree within 1e-6', () => {
  const model = train(DATA, { ...FAST, epochs: 3 });
  for (const text of [...PARAPHRASES.map(([t]) => t), ...UNRELATED, '']) {
    const { indices, values } = featurizer.sparse(text);
    const dense = forward(model.weights, featurizer.featurize(text));
    const sparse = forwardSparse(model.weights, indices, values, new Float32Array(model.labels.length));
    let sum = 0;
    for (let k = 0; k < dense.length; k++) {
      assert.ok(Math.abs(dense[k]! - sparse[k]!) <= 1e-6);
      sum += dense[k]!;
    }
    assert.ok(Math.abs(sum - 1) < 1e-5, 'probabilities sum to 1');
  }
});

test('forward checks shapes with a typed error', () => {
  const model = train(DATA, { ...FAST, epochs: 1 });
  expectCode(() => forward(model.weights, new Float32Array(10)), 'NLU_INPUT_INVALID');
  expectCode(
    () => forwardSparse(model.weights, Uint32Array.of(1 << 20), Float32Array.of(1)),
    'NLU_INPUT_INVALID',
  );
  expectCode(
    () => forwardSparse(model.weights, Uint32Array.of(1, 2), Float32Array.of(1)),
    'NLU_INPUT_INVALID',
  );
  expectCode(
    () => predict(model, new Featurizer({ ...DEFAULT_FEATURIZER, dims: 1024 }), 'hi'),
    'NLU_MODEL_INVALID',
  );
  const broken = { ...model.weights, b2: new Float32Array(model.labels.length + 1) };
  expectCode(() => checkWeights(broken), 'NLU_MODEL_INVALID');
});

test('with out-of-scope examples, unrelated text is mostly rejected while paraphrases still pass', () => {
  const model = train({ intents: INTENTS, outOfScope: OUT_OF_SCOPE }, FAST);
  assert.ok(model.threshold > 0 && model.threshold < 1, `threshold ${model.threshold}`);
  const rejected = UNRELATED.filter((text) => predict(model, featurizer, text).intent === null);
  assert.ok(rejected.length > UNRELATED.length / 2, `rejected ${rejected.length} of ${UNRELATED.length}`);
  const accepted = PARAPHRASES.filter(([text, intent]) => predict(model, featurizer, text).intent === intent);
  assert.ok(accepted.length > PARAPHRASES.length / 2, `accepted ${accepted.length} of ${PARAPHRASES.length}`);
  // Out-of-scope examples are not a class.
  assert.equal(model.labels.length, 4);
});

test('early stopping ends an easy set before the epoch limit', () => {
  const model = train(DATA, { ...FAST, epochs: 300 });
  assert.ok(model.metrics.epochs < 300, `ran ${model.metrics.epochs} epochs`);
  assert.ok(model.metrics.validationLoss < 0.5);
});

test('bad inputs give typed errors that name intents, never example text', () => {
  expectCode(() => train({ intents: { only: ['hello there'] } }), 'NLU_TRAINING_INVALID');
  expectCode(() => train({ intents: { a: ['hello'], b: ['   ', ''] } }), 'NLU_TRAINING_INVALID');
  expectCode(
    () => train({ intents: { a: ['hello'], b: 'nope' } } as unknown as TrainingData),
    'NLU_TRAINING_INVALID',
  );
  expectCode(() => train(DATA, { epochs: 0 }), 'NLU_TRAINING_INVALID');
  expectCode(() => train(DATA, { dropout: 1 }), 'NLU_TRAINING_INVALID');
  expectCode(() => train(DATA, { validationSplit: -0.1 }), 'NLU_TRAINING_INVALID');
  expectCode(() => train(DATA, { nope: 1 } as TrainingOptions), 'NLU_TRAINING_INVALID');

  const secret = 'my account number is 12345678';
  const dup = expectCode(
    () =>
      train({
        intents: {
          check_balance: [secret, 'balance'],
          transfer_money: ['Account number is 12345678 my', secret.toUpperCase()],
        },
      }),
    'NLU_TRAINING_INVALID',
  ) as Error & { data: Record<string, unknown> };
  assert.match(dup.message, /check_balance/);
  assert.match(dup.message, /transfer_money/);
  assert.deepEqual(dup.data['intents'], ['check_balance', 'transfer_money']);
  assert.doesNotMatch(dup.message, /12345678/);
  assert.ok(!JSON.stringify(dup.data).includes('12345678'));

  const oosDup = expectCode(
    () => train({ intents: INTENTS, outOfScope: ['Tell me my current balance!'] }),
    'NLU_TRAINING_INVALID',
  );
  assert.match(oosDup.message, /check_balance/);

  const many = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`intent_${i}`, [`example ${i}`]]));
  expectCode(() => train({ intents: many }), 'NLU_TRAINING_INVALID');
  const huge = {
    a: Array.from({ length: 100_001 }, (_, i) => `a ${i}`),
    b: Array.from({ length: 100_000 }, (_, i) => `b ${i}`),
  };
  expectCode(() => train({ intents: huge }), 'NLU_TRAINING_INVALID');
});

// Paraphrases grouped by intent: a validation set the training data does not contain.
const VALIDATION: TrainingData = {
  intents: Object.fromEntries(
    Object.keys(INTENTS).map((intent) => [
      intent,
      PARAPHRASES.filter(([, label]) => label === intent).map(([text]) => text),
    ]),
  ),
};

test('an explicit validation set is what early stopping and the validation metrics measure', () => {
  const model = train(DATA, { ...FAST, validation: VALIDATION });
  assert.equal(model.metrics.validationAccuracy, 1, 'the paraphrases are all learned');
  // The same texts under the wrong intents: the trainer must score against them, not an internal split.
  const labels = Object.keys(INTENTS);
  const rotated: TrainingData = {
    intents: Object.fromEntries(
      labels.map((intent, k) => [labels[(k + 1) % labels.length]!, VALIDATION.intents[intent]!]),
    ),
  };
  const misled = train(DATA, { ...FAST, epochs: 300, validation: rotated });
  assert.equal(misled.metrics.validationAccuracy, 0);
  // Its loss only rises as the model learns the real labels, so the first epochs stay best and training stops.
  assert.ok(misled.metrics.epochs <= 1 + FAST.patience! + 1, `ran ${misled.metrics.epochs} epochs`);
  assert.ok(misled.metrics.validationLoss > model.metrics.validationLoss);
});

test('with an explicit validation set nothing is held out of the training data', () => {
  // validationSplit would change which examples are trained on; with a validation set it must not matter.
  const data = { intents: INTENTS, outOfScope: OUT_OF_SCOPE };
  const a = train(data, { ...FAST, epochs: 4, validationSplit: 0.1, validation: VALIDATION });
  const b = train(data, { ...FAST, epochs: 4, validationSplit: 0.5, validation: VALIDATION });
  assert.deepEqual(Buffer.from(a.weights.w1.buffer), Buffer.from(b.weights.w1.buffer));
  const internal = train(data, { ...FAST, epochs: 4, validationSplit: 0.5 });
  assert.notDeepEqual(Buffer.from(a.weights.w1.buffer), Buffer.from(internal.weights.w1.buffer));
  // The examples count is the training data's, without the validation set.
  assert.equal(a.metrics.examples, 40 + OUT_OF_SCOPE.length);
});

test('the threshold is calibrated on the validation set, weighing recall by recallWeight', () => {
  const data = { intents: INTENTS, outOfScope: OUT_OF_SCOPE };
  const validation = { ...VALIDATION, outOfScope: UNRELATED };
  const confidences = (model: TrainedModel, texts: string[]): number[] =>
    texts.map((text) => predict(model, featurizer, text).confidence);
  // Recall weighs far more than accuracy: every validation out-of-scope example ends up below the threshold.
  const strict = train(data, { ...FAST, validation, recallWeight: 100 });
  assert.ok(
    confidences(strict, UNRELATED).every((c) => c < strict.threshold),
    `threshold ${strict.threshold}`,
  );
  // Recall weighs nothing: every correctly labelled validation example is accepted.
  const lenient = train(data, { ...FAST, validation, recallWeight: 0 });
  assert.equal(lenient.metrics.validationAccuracy, 1);
  const paraphrases = PARAPHRASES.map(([text]) => text);
  assert.ok(
    confidences(lenient, paraphrases).every((c) => c >= lenient.threshold),
    `threshold ${lenient.threshold}`,
  );
  assert.ok(lenient.threshold < strict.threshold);
});

test('label smoothing keeps training confidences away from 1', () => {
  const texts = Object.values(INTENTS).flat();
  const meanTop = (model: TrainedModel): number =>
    texts.reduce((sum, text) => sum + predict(model, featurizer, text).confidence, 0) / texts.length;
  const plain = meanTop(train(DATA, { ...FAST, validation: VALIDATION }));
  const smoothed = meanTop(train(DATA, { ...FAST, validation: VALIDATION, labelSmoothing: 0.3 }));
  assert.ok(plain > 0.95, `plain ${plain}`);
  // The smoothed target of the true label is 1 - 0.3 + 0.3 / 4 = 0.775; without dropout at inference the model
  // is a little more confident than that, but far from the unsmoothed one.
  assert.ok(smoothed < 0.9 && smoothed > 0.5, `smoothed ${smoothed}`);
  assert.ok(plain - smoothed > 0.08, `plain ${plain}, smoothed ${smoothed}`);
});

test('a validation set is checked, hashed, and keeps training deterministic', () => {
  const code = 'NLU_TRAINING_INVALID';
  const unknown = expectCode(
    () => train(DATA, { ...FAST, validation: { intents: { pay_bill: ['pay my bill'] } } }),
    code,
  );
  assert.match(unknown.message, /pay_bill/);
  expectCode(() => train(DATA, { ...FAST, validation: { intents: {}, outOfScope: ['hi'] } }), code);
  expectCode(() => train(DATA, { ...FAST, validation: { intents: { lost_card: ['  '] } } }), code);
  expectCode(() => train(DATA, { ...FAST, validation: [] as unknown as TrainingData }), code);
  expectCode(
    () =>
      train(DATA, {
        ...FAST,
        validation: { intents: { lost_card: ['my card is gone'], check_balance: ['My card is gone!'] } },
      }),
    code,
  );
  expectCode(() => train(DATA, { ...FAST, labelSmoothing: 0.9 }), code);
  expectCode(() => train(DATA, { ...FAST, recallWeight: -1 }), code);

  // A validation set naming only some intents is fine.
  const partial: TrainingData = { intents: { lost_card: ['my card is gone'] } };
  const a = train(DATA, { ...FAST, epochs: 3, validation: partial });
  const b = train(DATA, { ...FAST, epochs: 3, validation: partial });
  assert.deepEqual(Buffer.from(a.weights.w1.buffer), Buffer.from(b.weights.w1.buffer));
  assert.equal(a.dataHash, b.dataHash);
  const other = train(DATA, { ...FAST, epochs: 3, validation: { intents: { lost_card: ['card stolen'] } } });
  assert.notEqual(other.dataHash, a.dataHash, 'the validation set is part of the hash');
  assert.notEqual(train(DATA, { ...FAST, epochs: 3 }).dataHash, a.dataHash);
});

test('input dropout is seeded like the rest, changes training, and the model still learns', () => {
  const options = { ...FAST, inputDropout: 0.3, seed: 3, validation: VALIDATION };
  const a = train(DATA, options);
  const b = train(DATA, options);
  assert.deepEqual(Buffer.from(a.weights.w1.buffer), Buffer.from(b.weights.w1.buffer));
  const plain = train(DATA, { ...options, inputDropout: 0 });
  assert.notDeepEqual(Buffer.from(a.weights.w1.buffer), Buffer.from(plain.weights.w1.buffer));
  assert.ok(a.metrics.validationAccuracy >= 0.9, `accuracy ${a.metrics.validationAccuracy}`);
  expectCode(() => train(DATA, { ...FAST, inputDropout: 1 }), 'NLU_TRAINING_INVALID');
});

test('a heavier out-of-scope loss makes the model less sure of out-of-scope text', () => {
  const data = { intents: INTENTS, outOfScope: OUT_OF_SCOPE };
  const meanTop = (model: TrainedModel): number =>
    OUT_OF_SCOPE.reduce((sum, text) => sum + predict(model, featurizer, text).confidence, 0) /
    OUT_OF_SCOPE.length;
  const options = { ...FAST, epochs: 20, patience: 20, validation: VALIDATION };
  const light = meanTop(train(data, { ...options, outOfScopeLossWeight: 0 }));
  const heavy = meanTop(train(data, { ...options, outOfScopeLossWeight: 10 }));
  // Uniform over 4 intents is 0.25: the heavy weight pulls the training out-of-scope examples toward it.
  assert.ok(heavy < light - 0.1, `light ${light}, heavy ${heavy}`);
  assert.ok(heavy < 0.4, `heavy ${heavy}`);
  expectCode(() => train(data, { ...FAST, outOfScopeLossWeight: -1 }), 'NLU_TRAINING_INVALID');
});
