import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test, type TestContext } from 'node:test';

import { main as nluMain } from '../../../src/cli/nlu.ts';
import { main as trainMain } from '../../../src/cli/train.ts';
import { isSwitchboardError } from '../../../src/errors.ts';
import { IntentModel, MODEL_FORMAT_VERSION, writeModelDir } from '../../../src/nlu/model-dir.ts';
import { mlpToOnnx } from '../../../src/nlu/onnx-writer.ts';
import { Featurizer } from '../../../src/nlu/featurizer.ts';
import { predict, train, type TrainedModel, type TrainingData } from '../../../src/nlu/trainer.ts';

const DATA: TrainingData = {
  intents: {
    book_table: [
      'book a table',
      'i want to book a table for two',
      'reserve a table for tonight',
      'can i make a reservation',
      'i would like a reservation for four people',
      'table for three please',
      'book me a table tomorrow',
      'make a booking for dinner',
      'reserve a spot for six',
      'do you have a table free tonight',
    ],
    opening_hours: [
      'what are your opening hours',
      'when do you open',
      'when do you close',
      'what time do you open today',
      'are you open on sunday',
      'how late are you open',
      'what are your hours',
      'what time do you close tonight',
      'opening times please',
      'are you open now',
    ],
    speak_to_human: [
      'let me talk to a person',
      'i want to speak to someone',
      'put me through to a human',
      'can i speak with a real person',
      'connect me to an operator',
      'transfer me to staff',
      'i need to talk to a human',
      'get me a real person',
      'speak to the manager',
      'operator please',
    ],
  },
  outOfScope: ['what is the weather like', 'play some music', 'how tall is mount everest', 'tell me a joke'],
};

let root: string;
let model: TrainedModel;
let modelDir: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'switchboard-nlu-model-'));
  model = train(DATA, { hidden: 16, epochs: 40, seed: 3 });
  modelDir = join(root, 'model');
  await writeModelDir(model, modelDir);
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function copyDir(
  name: string,
  edit?: { json?: (m: Record<string, unknown>) => unknown; onnx?: (b: Buffer) => Uint8Array },
) {
  const dir = join(root, name);
  const json = JSON.parse(await readFile(join(modelDir, 'model.json'), 'utf8')) as Record<string, unknown>;
  const onnx = await readFile(join(modelDir, 'model.onnx'));
  await writeModelDir(model, dir);
  await writeFile(join(dir, 'model.json'), JSON.stringify(edit?.json ? edit.json(json) : json));
  await writeFile(join(dir, 'model.onnx'), edit?.onnx ? edit.onnx(onnx) : onnx);
  return dir;
}

async function rejectsInvalid(dir: string, pattern: RegExp): Promise<void> {
  await assert.rejects(IntentModel.load(dir), (err: unknown) => {
    assert.ok(isSwitchboardError(err, 'NLU_MODEL_INVALID'), String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

test('a written model folder loads and classifies paraphrases it was not trained on', async () => {
  const loaded = await IntentModel.load(modelDir);
  try {
    assert.deepEqual(loaded.labels, ['book_table', 'opening_hours', 'speak_to_human']);
    const cases: [string, string][] = [
      ['could i book a table for 5', 'book_table'],
      ['i would like to reserve a table', 'book_table'],
      ['what time are you open until', 'opening_hours'],
      ['are you open on monday', 'opening_hours'],
      ['i want to talk to a real human', 'speak_to_human'],
      ['please connect me to a person', 'speak_to_human'],
    ];
    for (const [text, intent] of cases) {
      const result = await loaded.classify(text);
      assert.equal(result.intent, intent, `${text} -> ${JSON.stringify(result)}`);
      assert.ok(result.confidence >= loaded.threshold && result.confidence <= 1);
    }
  } finally {
    await loaded.release();
  }
});

test('the loaded model agrees with the TS forward pass and handles empty and huge text', async () => {
  const loaded = await IntentModel.load(modelDir, { threads: 1 });
  try {
    assert.deepEqual(await loaded.classify(''), { intent: null, confidence: 0 });
    assert.deepEqual(await loaded.classify('  ?! '), { intent: null, confidence: 0 });
    const featurizer = new Featurizer(model.featurizer);
    for (const text of ['book a table for 4', 'are you open', 'hello there']) {
      const onnx = await loaded.classify(text);
      const ts = predict(model, featurizer, text);
      assert.equal(onnx.intent, ts.intent);
      assert.ok(Math.abs(onnx.confidence - ts.confidence) < 1e-5);
    }
    const huge = await loaded.classify('book a table '.repeat(800));
    assert.ok(huge.confidence > 0 && huge.confidence <= 1);
  } finally {
    await loaded.release();
  }
});

test('model.json records the format, labels, featurizer, threshold, metrics and data hash, and nothing time-based', async () => {
  const json = JSON.parse(await readFile(join(modelDir, 'model.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(json['formatVersion'], MODEL_FORMAT_VERSION);
  assert.deepEqual(json['labels'], model.labels);
  assert.deepEqual(json['featurizer'], model.featurizer);
  assert.equal(json['threshold'], model.threshold);
  assert.match(json['dataHash'] as string, /^[0-9a-f]{64}$/);
  assert.equal((json['metrics'] as { examples: number }).examples, 34);
  assert.deepEqual(Object.keys(json).sort(), [
    'dataHash',
    'featurizer',
    'formatVersion',
    'labels',
    'metrics',
    'threshold',
  ]);
  assert.deepEqual(await readFile(join(modelDir, 'model.onnx')), Buffer.from(mlpToOnnx(model.weights)));

  const again = join(root, 'again');
  await writeModelDir(model, again);
  assert.equal(
    await readFile(join(again, 'model.json'), 'utf8'),
    await readFile(join(modelDir, 'model.json'), 'utf8'),
  );
});

test('a model from a newer Switchboard is refused', async () => {
  const dir = await copyDir('newer', { json: (m) => ({ ...m, formatVersion: 99 }) });
  await rejectsInvalid(dir, /newer Switchboard/);
});

test('missing files, non-object JSON and a truncated network are typed errors', async () => {
  await rejectsInvalid(join(root, 'no-such-dir'), /model\.json is missing/);
  await rejectsInvalid(await copyDir('array', { json: () => [1, 2] }), /must be a JSON object/);
  await rejectsInvalid(
    await copyDir('truncated', { onnx: (b) => b.subarray(0, Math.floor(b.length / 2)) }),
    /onnxruntime rejected/,
  );
  const noOnnx = await copyDir('no-onnx');
  await rm(join(noOnnx, 'model.onnx'));
  await rejectsInvalid(noOnnx, /model\.onnx is missing/);
});

test('labels or featurizer dims that do not fit the network are typed errors', async () => {
  await rejectsInvalid(
    await copyDir('labels', { json: (m) => ({ ...m, labels: ['a', 'b'] }) }),
    /2 labels but model\.onnx outputs 3/,
  );
  await rejectsInvalid(
    await copyDir('dims', {
      json: (m) => ({ ...m, featurizer: { ...(m['featurizer'] as object), dims: 1024 } }),
    }),
    /1024 dims but model\.onnx takes 4096/,
  );
});

function captureConsole(t: TestContext) {
  const out: string[] = [];
  const err: string[] = [];
  t.mock.method(console, 'log', (...a: unknown[]) => void out.push(a.join(' ')));
  t.mock.method(console, 'error', (...a: unknown[]) => void err.push(a.join(' ')));
  return { out, err };
}

test('switchboard train writes a model folder and prints a summary', async (t) => {
  const data = join(root, 'data.json');
  await writeFile(data, JSON.stringify(DATA));
  const out = join(root, 'cli-model');
  const io = captureConsole(t);
  const code = await trainMain([
    '--data',
    data,
    '--out',
    out,
    '--hidden',
    '16',
    '--epochs',
    '30',
    '--seed',
    '3',
  ]);
  assert.equal(code, 0, io.err.join('\n'));
  assert.ok((await stat(join(out, 'model.onnx'))).size > 0);
  assert.ok((await stat(join(out, 'model.json'))).size > 0);
  const summary = io.out.join('\n');
  assert.match(summary, /labels:\s+3 \(book_table, opening_hours, speak_to_human\)/);
  assert.match(summary, /examples:\s+34/);
  assert.match(summary, /model:\s+4096 hashed dims, 16 hidden units/);
  assert.match(
    summary,
    /cross-validation:\s+5 folds; top label right \d+\.\d%, with the threshold: in-scope \d+\.\d%, out-of-scope rejected \d+\.\d%/,
  );
  assert.match(summary, /training time:\s+\d+ ms/);
  assert.match(summary, /model size:\s+\d+ bytes/);
  t.diagnostic(summary);
});

test('switchboard train: bad data exits 1, usage errors exit 2', async (t) => {
  const io = captureConsole(t);
  const bad = join(root, 'bad.json');
  await writeFile(bad, JSON.stringify({ intents: { a: ['secret text'], b: 'not an array' } }));
  assert.equal(await trainMain(['--data', bad, '--out', join(root, 'bad-out')]), 1);
  assert.match(io.err.at(-1)!, /intent "b" must be an array of strings/);
  await writeFile(bad, '{ nope');
  assert.equal(await trainMain(['--data', bad, '--out', join(root, 'bad-out')]), 1);
  assert.match(io.err.at(-1)!, /not valid JSON/);
  await writeFile(bad, JSON.stringify({ intents: { only: ['one intent'] } }));
  assert.equal(await trainMain(['--data', bad, '--out', join(root, 'bad-out')]), 1);
  assert.match(io.err.at(-1)!, /at least 2 intents/);
  assert.ok(!io.err.join('\n').includes('secret text') && !io.err.join('\n').includes('one intent'));
  assert.equal(await trainMain(['--data', join(root, 'missing.json'), '--out', join(root, 'x')]), 1);
  await assert.rejects(stat(join(root, 'bad-out')));

  assert.equal(await trainMain([]), 2);
  assert.equal(await trainMain(['--data', bad]), 2);
  assert.equal(await trainMain(['--data', bad, '--out', root, '--hidden', 'many']), 2);
  assert.equal(await trainMain(['--bogus']), 2);
});

test('switchboard nlu prints the intent, confidence and built-in entities as one JSON object', async (t) => {
  const io = captureConsole(t);
  assert.equal(await nluMain(['--model', modelDir, 'book a table for 4']), 0, io.err.join('\n'));
  assert.equal(io.out.length, 1);
  const result = JSON.parse(io.out[0]!) as { intent: string | null; confidence: number; entities: unknown[] };
  assert.equal(result.intent, 'book_table');
  assert.ok(result.confidence > 0 && result.confidence <= 1);
  assert.deepEqual(result.entities, [
    { entity: 'number', value: '4' },
    { entity: 'digits', value: '4' },
  ]);
});

test('switchboard nlu reads one utterance per stdin line and refuses to run without a flow or a model', async (t) => {
  const io = captureConsole(t);
  const stdin = Readable.from(['when do you open\n', '\n', 'yes put me through to a human\n']);
  assert.equal(await nluMain(['--model', modelDir], stdin), 0, io.err.join('\n'));
  const lines = io.out.map((l) => JSON.parse(l) as { intent: string | null; entities: { entity: string }[] });
  assert.equal(lines.length, 3);
  assert.equal(lines[0]!.intent, 'opening_hours');
  assert.deepEqual(lines[1], { intent: null, confidence: 0, entities: [] });
  assert.equal(lines[2]!.intent, 'speak_to_human');
  assert.ok(lines[2]!.entities.some((e) => e.entity === 'yes'));

  assert.equal(await nluMain([]), 2);
  assert.match(io.err.at(-1)!, /FLOW or --model DIR is required/);
  assert.equal(await nluMain([join(root, 'booking.json'), 'hello']), 1);
  assert.match(io.err.at(-1)!, /cannot read .*booking\.json: no such file/);
  assert.equal(await nluMain(['--model', join(root, 'nowhere'), 'hello']), 1);
  assert.match(io.err.at(-1)!, /not a model folder: it has neither model\.json .* nor config\.json/);
});
