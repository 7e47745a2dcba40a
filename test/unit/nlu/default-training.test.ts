import assert from 'node:assert/strict';
import { test } from 'node:test';

import { crossValidate } from '../../../src/nlu/cross-validation.ts';
import {
  DEFAULT_RECALL_WEIGHT,
  defaultOptions,
  trainWithDefaults,
} from '../../../src/nlu/default-training.ts';
import { Featurizer } from '../../../src/nlu/featurizer.ts';
import { predict, type TrainingData } from '../../../src/nlu/trainer.ts';
import { chooseThreshold } from '../../../src/nlu/training/calibration.ts';
import { cleanData } from '../../../src/nlu/training/data.ts';

const INTENTS: Record<string, string[]> = {
  book_table: [
    'book a table',
    'i want to book a table for two',
    'reserve a table for tonight',
    'can i make a reservation',
    'i would like a reservation for four people',
    'table for three please',
    'book me a table tomorrow',
  ],
  opening_hours: [
    'what are your opening hours',
    'when do you open',
    'when do you close',
    'what time do you open today',
    'are you open on sunday',
    'how late are you open',
    'what are your hours',
  ],
  speak_to_human: [
    'let me talk to a person',
    'i want to speak to someone',
    'put me through to a human',
    'can i speak with a real person',
    'connect me to an operator',
    'operator please',
  ],
};
const OUT_OF_SCOPE = [
  'what is the weather like',
  'play some music',
  'how tall is mount everest',
  'tell me a joke',
  'who won the game last night',
  'turn off the lights',
  'what is the capital of australia',
  'sing me a song',
  'how do you make pancakes',
  'my dog ate my homework',
];
// 20 in-scope examples: the smallest dataset the defaults are meant for.
const SMALL: TrainingData = { intents: INTENTS, outOfScope: OUT_OF_SCOPE };

test('the defaults scale capacity and the out-of-scope weight with the data', () => {
  const small = defaultOptions(SMALL);
  assert.equal(small.featurizer?.dims, 4096);
  assert.equal(small.outOfScopeLossWeight, 1, '10 out-of-scope of 30 is not few');
  const many: Record<string, string[]> = {};
  for (let k = 0; k < 50; k++)
    many[`intent_${k}`] = Array.from({ length: 100 }, (_, i) => `words ${k} number ${i} of intent ${k}`);
  const large = defaultOptions({ intents: many, outOfScope: ['a few', 'out of scope', 'lines'] });
  assert.equal(large.featurizer?.dims, 16384);
  assert.equal(large.outOfScopeLossWeight, 4, '3 out-of-scope of 5000 in-scope are few');
  assert.equal(defaultOptions(SMALL, { hidden: 32 }).hidden, 32);
});

test('cross-validation scores every example once, from a model that did not train on it', () => {
  const clean = cleanData(SMALL);
  const cv = crossValidate(clean, { ...defaultOptions(SMALL), epochs: 5 }, 5, 1);
  assert.equal(cv.folds, 5);
  assert.equal(cv.bestEpochs.length, 5);
  assert.ok(cv.bestEpochs.every((e) => e >= 1 && e <= 5));
  assert.equal(cv.scored.filter((s) => !s.oos).length, 20);
  assert.equal(cv.scored.filter((s) => s.oos).length, 10);
  assert.ok(cv.scored.every((s) => s.conf > 0 && s.conf <= 1));
  assert.ok(cv.scored.every((s) => !(s.oos && s.correct)));
});

test('an intent with a single example is never held out, so every fold can still train on it', () => {
  const data: TrainingData = { intents: { ...INTENTS, lone: ['i have exactly one example'] } };
  const cv = crossValidate(cleanData(data), { ...defaultOptions(data), epochs: 3 }, 5, 1);
  assert.equal(cv.scored.length, 20, 'the lone example is not among the held-out ones');
  const model = trainWithDefaults(data, { epochs: 10 });
  assert.ok(model.labels.includes('lone'));
});

test('the threshold weighs out-of-scope recall by DEFAULT_RECALL_WEIGHT', () => {
  // 20 correct in-scope at 0.50..0.69, 10 out-of-scope at 0.40..0.49, and one more among the in-scope ones.
  const scored = [
    ...Array.from({ length: 20 }, (_, i) => ({ conf: 0.5 + i / 100, correct: true, oos: false })),
    ...Array.from({ length: 10 }, (_, i) => ({ conf: 0.4 + i / 100, correct: false, oos: true })),
    { conf: 0.505, correct: false, oos: true },
  ];
  // Rejecting the last one would lose an in-scope example (1/20) for 1/11 x 0.05 of recall: not worth it.
  const t = chooseThreshold(scored, DEFAULT_RECALL_WEIGHT);
  assert.ok(t > 0.49 && t <= 0.5, `rejects the 10 below every in-scope example and keeps all 20 (${t})`);
  // Weighing recall as much as accuracy, 1/11 of recall is worth 1/20 of accuracy.
  const even = chooseThreshold(scored, 1);
  assert.ok(even > 0.505 && even <= 0.51, `${even}`);
});

test('trainWithDefaults on 20 examples understands them, rejects off-topic text, and is deterministic', () => {
  const model = trainWithDefaults(SMALL);
  const again = trainWithDefaults(SMALL);
  assert.equal(model.dataHash, again.dataHash);
  assert.equal(model.threshold, again.threshold);
  assert.deepEqual(model.crossValidation, again.crossValidation);
  assert.equal(model.crossValidation.folds, 5);
  assert.ok(model.crossValidation.accuracy > 0.5, JSON.stringify(model.crossValidation));
  assert.ok(model.metrics.epochs >= 1 && model.metrics.epochs <= 60);

  const featurizer = new Featurizer(model.featurizer);
  const understood = Object.entries(INTENTS).flatMap(([label, texts]) =>
    texts.filter((text) => predict(model, featurizer, text).intent === label),
  );
  assert.ok(understood.length >= 18, `${understood.length} of 20 training examples understood`);
  const rejected = [
    'what is the price of bitcoin',
    'recommend a good movie',
    'how far away is the moon',
  ].filter((text) => predict(model, featurizer, text).intent === null);
  assert.ok(rejected.length >= 2, `${rejected.length} of 3 unseen off-topic lines rejected`);
});
