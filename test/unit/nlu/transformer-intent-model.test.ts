/** A text classifier trained elsewhere serving a flow's intents: label mapping, out of scope, the threshold. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSwitchboardError } from '../../../src/errors.ts';
import { TransformerIntentModel, transformerVersion } from '../../../src/nlu/transformer/intent-model.ts';

// Trained in PyTorch on the pharmacy flow (scripts/pytorch/): labels refill, operator, cancel, yes, no, repeat.
const MODEL = new URL('../../fixtures/models/pharmacy-pytorch', import.meta.url).pathname;
const PHARMACY = ['refill', 'operator', 'cancel', 'yes', 'no', 'repeat'];

async function rejectsWith(options: Parameters<typeof TransformerIntentModel.load>[1], message: RegExp) {
  await assert.rejects(TransformerIntentModel.load(MODEL, options), (err: unknown) => {
    assert.ok(isSwitchboardError(err, 'NLU_MODEL_INVALID'), String(err));
    assert.match(err.message, message);
    return true;
  });
}

test('labels named as the intents answer as those intents; blank text is no intent', async () => {
  const model = await TransformerIntentModel.load(MODEL, { intents: PHARMACY, threshold: 0.5 });
  try {
    assert.deepEqual(model.labels, PHARMACY);
    assert.equal(model.calibrated, false);
    const refill = await model.classify('could you refill my meds');
    assert.equal(refill.intent, 'refill');
    assert.ok(refill.confidence > 0.5 && refill.confidence <= 1, `${refill.confidence}`);
    assert.deepEqual(await model.classify('   '), { intent: null, confidence: 0 });
  } finally {
    await model.release();
  }
  await assert.rejects(model.classify('refill'), (err: unknown) =>
    isSwitchboardError(err, 'NLU_INFERENCE_FAILED'),
  );
});

test('a mapping renames labels, sums labels given the same intent, and null means out of scope', async () => {
  const model = await TransformerIntentModel.load(MODEL, {
    intents: ['order', 'agent', 'stop', 'answer', 'repeat'],
    labels: { refill: 'order', operator: 'agent', cancel: 'stop', yes: 'answer', no: 'answer', repeat: null },
    threshold: 0.5,
  });
  try {
    assert.deepEqual(model.labels, ['order', 'agent', 'stop', 'answer'], 'repeat: no label maps to it');
    assert.equal((await model.classify('could you refill my meds')).intent, 'order');
    const yes = await model.classify('yes please');
    const no = await model.classify('nope');
    assert.equal(yes.intent, 'answer');
    assert.equal(no.intent, 'answer');
    // "say that again" is the repeat label's, which now means out of scope: no intent, however sure the model is.
    const again = await model.classify('say that again');
    assert.equal(again.intent, null);
    assert.ok(again.confidence < 0.5, `the best intent's own probability is low (${again.confidence})`);
  } finally {
    await model.release();
  }
});

test('labels that match no intent, and mappings of labels the model lacks, are refused by name', async () => {
  await rejectsWith(
    { intents: ['refill', 'operator', 'cancel', 'yes'], threshold: 0.5 },
    /model labels "no", "repeat" match no intent of the flow: map each in model\.labels/,
  );
  await rejectsWith(
    { intents: PHARMACY, labels: { refil: 'refill' }, threshold: 0.5 },
    /model\.labels maps "refil", which is not a label of the model/,
  );
  await rejectsWith(
    { intents: PHARMACY, labels: Object.fromEntries(PHARMACY.map((l) => [l, null])), threshold: 0.5 },
    /no model label maps to an intent/,
  );
  await rejectsWith({ intents: PHARMACY }, /a threshold is needed/);
});

test("without a threshold one is calibrated on the flow's examples and out-of-scope sentences", async () => {
  const model = await TransformerIntentModel.load(MODEL, {
    intents: PHARMACY,
    calibration: {
      intents: {
        refill: ['i need a refill', 'refill a prescription', 'my prescription'],
        operator: ['talk to a pharmacist', 'speak to someone'],
        yes: ['yes', 'sure'],
      },
      outOfScope: [
        'what is the capital of australia',
        'tell me a joke',
        'play some jazz',
        'how tall is mount everest',
      ],
    },
  });
  try {
    assert.equal(model.calibrated, true);
    assert.ok(model.threshold > 0 && model.threshold < 1, `${model.threshold}`);
    assert.equal((await model.classify('i need a refill')).intent, 'refill');
    assert.equal((await model.classify('tell me a joke')).intent, null);
  } finally {
    await model.release();
  }
  await rejectsWith(
    { intents: PHARMACY, calibration: { intents: { other: ['something else'] } } },
    /none of the flow's examples belong to an intent the model answers/,
  );
});

test('the version is a hash of the folder and of how the flow uses it', async () => {
  const plain = await transformerVersion(MODEL, {});
  assert.match(plain, /^onnx-[0-9a-f]{16}$/);
  assert.equal(await transformerVersion(MODEL, {}), plain);
  assert.notEqual(await transformerVersion(MODEL, { threshold: 0.5 }), plain);
  assert.notEqual(await transformerVersion(MODEL, { labels: { repeat: null } }), plain);
});

test('a folder that is not a model is refused with the file it lacks', async () => {
  await assert.rejects(
    TransformerIntentModel.load(new URL('.', import.meta.url).pathname, { threshold: 0.5 }),
    (err: unknown) =>
      isSwitchboardError(err, 'NLU_MODEL_INVALID') &&
      /config\.json|model\.onnx|tokenizer\.json/.test(err.message),
  );
});
