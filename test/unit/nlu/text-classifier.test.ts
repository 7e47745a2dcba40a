import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isSwitchboardError, type ErrorCode } from '../../../src/errors.ts';
import { TextClassifier } from '../../../src/nlu/transformer/text-classifier.ts';
import {
  byteLevelBpeTokenizer,
  classifierConfig,
  classifierOnnx,
  expected,
  onnxModel,
  randomWeights,
  unigramTokenizer,
  wordPieceTokenizer,
  writeFolder,
  type ClassifierWeights,
} from './text-classifier-fixture.ts';

const tmp = mkdtempSync(join(tmpdir(), 'switchboard-text-classifier-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

let folders = 0;
const nextDir = () => join(tmp, `m${folders++}`);

// WordPiece ids: [PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4, then these words from 5.
const WORDS = ['refill', 'my', 'pre', '##scription', '##s', 'cancel', 'the', 'order', 'please', 'hours'];
const ID = Object.fromEntries(WORDS.map((w, i) => [w, i + 5])) as Record<string, number>;
const CLS = 2;
const SEP = 3;
const LABELS = ['refill', 'cancel', 'hours'];
const VOCAB = 24;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

// Every assertion here carries a message: without one, a failing assert.ok makes node re-read this file to
// quote the expression, which under tsx can take minutes instead of failing at once.

/** Fails unless the two agree within tol. */
function assertClose(actual: ArrayLike<number>, want: ArrayLike<number>, tol: number, what = ''): void {
  const d = maxAbsDiff(actual, want);
  assert.ok(d < tol, `${what} differs from the expected values by ${d} (tolerance ${tol})`);
}

/** Fails unless the two differ by more than min: the check before it could tell them apart. */
function assertApart(actual: ArrayLike<number>, other: ArrayLike<number>, min: number, what = ''): void {
  const d = maxAbsDiff(actual, other);
  assert.ok(d > min, `${what} differs from the alternative by only ${d}`);
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err) => {
    assert.ok(isSwitchboardError(err, code), `expected ${code}, got ${String(err)}`);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}

/** A WordPiece folder around `weights`; any file can be replaced. */
async function folder(
  weights: ClassifierWeights,
  files: { model?: Uint8Array | null; tokenizer?: unknown; config?: unknown; tokenizerConfig?: unknown } = {},
): Promise<string> {
  return writeFolder(nextDir(), {
    model: files.model === undefined ? classifierOnnx(weights) : files.model,
    tokenizer: files.tokenizer === undefined ? wordPieceTokenizer(WORDS) : files.tokenizer,
    config: files.config === undefined ? classifierConfig(LABELS) : files.config,
    tokenizerConfig: files.tokenizerConfig,
  });
}

async function withClassifier<T>(dir: string, use: (c: TextClassifier) => Promise<T>): Promise<T> {
  const classifier = await TextClassifier.load(dir);
  try {
    return await use(classifier);
  } finally {
    await classifier.release();
  }
}

test('probabilities are the softmax of the logits the network computes for the tokenized text', async () => {
  const w = randomWeights(1, VOCAB, 6, LABELS.length);
  await withClassifier(await folder(w), async (classifier) => {
    assert.deepEqual(classifier.labels, LABELS);
    const cases: [string, number[]][] = [
      ['Refill my prescriptions', [CLS, ID.refill!, ID.my!, ID.pre!, ID['##scription']!, ID['##s']!, SEP]],
      ['CANCEL the order, please!', [CLS, ID.cancel!, ID.the!, ID.order!, 1, ID.please!, 1, SEP]],
      ['hours', [CLS, ID.hours!, SEP]],
    ];
    const seen: Float32Array[] = [];
    for (const [text, ids] of cases) {
      const probs = await classifier.probabilities(text);
      assert.ok(probs instanceof Float32Array, 'probabilities are a Float32Array');
      assertClose(probs, expected(w, ids).probabilities, 1e-6, text);
      const sum = probs.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-6, `probabilities sum to ${sum}`);
      seen.push(probs);
    }
    // The texts give different answers: a classifier ignoring its input would fail above or here.
    assertApart(seen[0]!, seen[1]!, 1e-3, 'first and second text');
    assertApart(seen[1]!, seen[2]!, 1e-3, 'second and third text');
  });
});

test('a blank text runs on the special tokens alone', async () => {
  const w = randomWeights(2, VOCAB, 4, LABELS.length);
  await withClassifier(await folder(w), async (classifier) => {
    const want = expected(w, [CLS, SEP]).probabilities;
    for (const text of ['', '   ', '\t\n'])
      assertClose(await classifier.probabilities(text), want, 1e-6, JSON.stringify(text));
  });
});

test('labels follow the ids of id2label, not the order of its keys', async () => {
  const w = randomWeights(3, VOCAB, 4, 3);
  const config = { id2label: { '2': 'hours', '0': 'refill', '1': 'cancel' } };
  await withClassifier(await folder(w, { config }), async (classifier) => {
    assert.deepEqual(classifier.labels, ['refill', 'cancel', 'hours']);
  });
});

test('softmax stays exact when the logits are large', async () => {
  // Logits near 1000 overflow exp() unless the largest is subtracted first.
  const w = randomWeights(4, VOCAB, 4, LABELS.length);
  w.b.set([1000, 999, 990]);
  await withClassifier(await folder(w), async (classifier) => {
    const probs = await classifier.probabilities('hours');
    assert.ok(probs.every(Number.isFinite), `probabilities are finite: ${String(probs)}`);
    // Logits near 1000 carry float32 rounding of about 1e-4 relative to the float64 reference.
    assertClose(probs, expected(w, [CLS, ID.hours!, SEP]).probabilities, 1e-4);
  });
});

test('token_type_ids are supplied, as zeros, when the network takes them', async () => {
  const w = randomWeights(5, VOCAB, 4, LABELS.length, true);
  await withClassifier(await folder(w), async (classifier) => {
    const ids = [CLS, ID.cancel!, ID.order!, SEP];
    const probs = await classifier.probabilities('cancel order');
    assertClose(probs, expected(w, ids, { types: [0, 0, 0, 0] }).probabilities, 1e-6);
    // Other type ids would give another answer, so the zeros did reach the network.
    assertApart(probs, expected(w, ids, { types: [1, 1, 1, 1] }).probabilities, 1e-3);
  });
});

test('a long text keeps its first tokens and still ends in [SEP]', async () => {
  const w = randomWeights(6, VOCAB, 6, LABELS.length);
  const config = classifierConfig(LABELS, { max_position_embeddings: 8 });
  const words = ['refill', 'my', 'cancel', 'the', 'order', 'please', 'hours', 'refill', 'my', 'order'];
  const text = Array.from({ length: 30 }, (_, i) => words[i % words.length]).join(' ');
  const content = words.map((word) => ID[word]!);
  await withClassifier(await folder(w, { config }), async (classifier) => {
    assert.equal(classifier.maxTokens, 8);
    const probs = await classifier.probabilities(text);
    assertClose(probs, expected(w, [CLS, ...content.slice(0, 6), SEP]).probabilities, 1e-6);
    // Cutting the token list without keeping [SEP], or keeping its end, would give other answers.
    assertApart(probs, expected(w, [CLS, ...content.slice(0, 7)]).probabilities, 1e-4);
    assertApart(probs, expected(w, [CLS, ...content.slice(4, 10), SEP]).probabilities, 1e-4);
    // A text exactly at the limit is not cut.
    const exact = 'refill my cancel the order please';
    assertClose(await classifier.probabilities(exact), probs, 1e-6);
  });
});

test('the token limit is the smallest of the three files', async () => {
  const w = randomWeights(7, VOCAB, 4, LABELS.length);
  const cases: { positions?: number; truncation?: number; modelMax?: number; want: number }[] = [
    { want: 512 },
    { positions: 64, want: 64 },
    { positions: 64, truncation: 12, want: 12 },
    { positions: 64, truncation: 12, modelMax: 9, want: 9 },
    { truncation: 600, want: 512 },
    // What exports write when the tokenizer sets no limit.
    { positions: 40, modelMax: 1e30, want: 40 },
  ];
  for (const c of cases) {
    const tokenizer = wordPieceTokenizer(WORDS);
    if (c.truncation !== undefined)
      tokenizer['truncation'] = {
        direction: 'Right',
        max_length: c.truncation,
        strategy: 'LongestFirst',
        stride: 0,
      };
    const config = classifierConfig(
      LABELS,
      c.positions === undefined ? {} : { max_position_embeddings: c.positions },
    );
    const tokenizerConfig = c.modelMax === undefined ? undefined : { model_max_length: c.modelMax };
    await withClassifier(await folder(w, { tokenizer, config, tokenizerConfig }), async (classifier) => {
      assert.equal(classifier.maxTokens, c.want, JSON.stringify(c));
    });
  }
});

test('a network exported with a fixed sequence length gets padded, masked input', async () => {
  const w = randomWeights(8, VOCAB, 4, LABELS.length);
  await withClassifier(
    await folder(w, { model: classifierOnnx(w, { fixedLength: 10 }) }),
    async (classifier) => {
      assert.equal(classifier.maxTokens, 10);
      const ids = [CLS, ID.refill!, ID.my!, SEP];
      const probs = await classifier.probabilities('refill my');
      assertClose(probs, expected(w, ids).probabilities, 1e-6);
      // Unmasked padding ([PAD] is id 0) would pull the mean towards its embedding.
      const padded = [...ids, 0, 0, 0, 0, 0, 0];
      assertApart(probs, expected(w, padded).probabilities, 1e-3);
      // Ten positions: [CLS], eight tokens of text, [SEP].
      const long = 'refill my order please '.repeat(5);
      const cut = [
        CLS,
        ID.refill!,
        ID.my!,
        ID.order!,
        ID.please!,
        ID.refill!,
        ID.my!,
        ID.order!,
        ID.please!,
        SEP,
      ];
      assertClose(await classifier.probabilities(long), expected(w, cut).probabilities, 1e-6);
    },
  );
});

test('byte-level BPE and Unigram tokenizers serve end to end', async () => {
  const w = randomWeights(9, VOCAB, 6, LABELS.length);
  // RoBERTa layout: <s> 0, </s> 2, "Ġrefill" 16, "Ġmy" 20, "Ġ" 4; characters outside the vocabulary are
  // dropped since the vocabulary has no unknown token.
  await withClassifier(await folder(w, { tokenizer: byteLevelBpeTokenizer() }), async (classifier) => {
    assertClose(await classifier.probabilities('refill my'), expected(w, [0, 16, 20, 2]).probabilities, 1e-6);
    assertClose(await classifier.probabilities('refill zq'), expected(w, [0, 16, 4, 2]).probabilities, 1e-6);
    assertClose(await classifier.probabilities(''), expected(w, [0, 2]).probabilities, 1e-6);
  });
  // T5 layout: "▁refill" 4, "▁my" 5, then </s> 1 and no prefix; unknown pieces fuse into <unk> 2.
  const config = classifierConfig(LABELS, { max_position_embeddings: 4 });
  const tokenizerConfig = { eos_token: { content: '</s>', special: true }, model_max_length: 512 };
  await withClassifier(
    await folder(w, { tokenizer: unigramTokenizer(), config, tokenizerConfig }),
    async (classifier) => {
      assertClose(await classifier.probabilities('refill my'), expected(w, [4, 5, 1]).probabilities, 1e-6);
      assertClose(await classifier.probabilities('refill zz'), expected(w, [4, 3, 2, 1]).probabilities, 1e-6);
      // Cut to 3 tokens of text and </s> kept at the end.
      const long = 'refill my refill my refill';
      assertClose(await classifier.probabilities(long), expected(w, [4, 5, 4, 1]).probabilities, 1e-6);
    },
  );
});

test('a missing file is named', async () => {
  const w = randomWeights(10, VOCAB, 4, LABELS.length);
  await rejectsWith(
    TextClassifier.load(await folder(w, { model: null })),
    'NLU_MODEL_INVALID',
    /model folder is missing model\.onnx$/,
  );
  await rejectsWith(
    TextClassifier.load(await folder(w, { tokenizer: null })),
    'NLU_MODEL_INVALID',
    /model folder is missing tokenizer\.json$/,
  );
  await rejectsWith(
    TextClassifier.load(await folder(w, { config: null })),
    'NLU_MODEL_INVALID',
    /model folder is missing config\.json$/,
  );
  await rejectsWith(
    TextClassifier.load(await folder(w, { model: null, config: null })),
    'NLU_MODEL_INVALID',
    /missing model\.onnx and config\.json$/,
  );
  await rejectsWith(TextClassifier.load(join(tmp, 'no-such-folder')), 'NLU_MODEL_INVALID', /does not exist/);
  // tokenizer_config.json is optional: the folders above without it load (see the other tests).
});

test('corrupt or empty model bytes are refused', async () => {
  const w = randomWeights(11, VOCAB, 4, LABELS.length);
  const good = classifierOnnx(w);
  const garbage = Uint8Array.from({ length: 256 }, (_, i) => (i * 37 + 11) & 0xff);
  for (const model of [garbage, good.subarray(0, good.length >> 1)])
    await rejectsWith(
      TextClassifier.load(await folder(w, { model })),
      'NLU_MODEL_INVALID',
      /onnxruntime rejected model\.onnx$/,
    );
  await rejectsWith(
    TextClassifier.load(await folder(w, { model: new Uint8Array(0) })),
    'NLU_MODEL_INVALID',
    /model\.onnx is empty$/,
  );
});

test('a network with other inputs is refused, naming what it takes', async () => {
  const w = randomWeights(12, VOCAB, 4, 2);
  const features = onnxModel({
    nodes: [{ op: 'Identity', inputs: ['features'], output: 'logits' }],
    inputs: [{ name: 'features', elem: 'float', dims: ['batch', 2] }],
    outputs: [{ name: 'logits', elem: 'float', dims: ['batch', 2] }],
  });
  const config = classifierConfig(['a', 'b']);
  await rejectsWith(
    TextClassifier.load(await folder(w, { model: features, config })),
    'NLU_MODEL_INVALID',
    /: model\.onnx must take input_ids and attention_mask \(and optionally token_type_ids\); it takes: features$/,
  );

  // input_ids alone, or with an input the classifier cannot fill, is refused too.
  const idsOnly = (extra: string[]) =>
    onnxModel({
      nodes: [
        { op: 'Gather', inputs: ['E', 'input_ids'], output: 'x' },
        { op: 'ReduceSum', inputs: ['x', 'axis1'], output: 'logits', ints: { keepdims: 0 } },
      ],
      initializers: [
        { name: 'E', dims: [VOCAB, 2], float: new Float32Array(VOCAB * 2) },
        { name: 'axis1', dims: [1], int64: [1] },
      ],
      inputs: ['input_ids', ...extra].map((name) => ({ name, elem: 'int64', dims: ['batch', 'sequence'] })),
      outputs: [{ name: 'logits', elem: 'float', dims: ['batch', 2] }],
    });
  await rejectsWith(
    TextClassifier.load(await folder(w, { model: idsOnly([]), config })),
    'NLU_MODEL_INVALID',
    /it takes: input_ids$/,
  );
  await rejectsWith(
    TextClassifier.load(await folder(w, { model: idsOnly(['attention_mask', 'position_ids']), config })),
    'NLU_MODEL_INVALID',
    /it takes: input_ids, attention_mask, position_ids$/,
  );
});

test('int32 ids are refused: exports use int64', async () => {
  const w = randomWeights(13, VOCAB, 4, 2);
  const model = onnxModel({
    nodes: [
      { op: 'Gather', inputs: ['E', 'input_ids'], output: 'x' },
      { op: 'ReduceSum', inputs: ['x', 'axis1'], output: 'logits', ints: { keepdims: 0 } },
    ],
    initializers: [
      { name: 'E', dims: [VOCAB, 2], float: new Float32Array(VOCAB * 2) },
      { name: 'axis1', dims: [1], int64: [1] },
    ],
    inputs: [
      { name: 'input_ids', elem: 'int32', dims: ['batch', 'sequence'] },
      { name: 'attention_mask', elem: 'int64', dims: ['batch', 'sequence'] },
    ],
    outputs: [{ name: 'logits', elem: 'float', dims: ['batch', 2] }],
  });
  await rejectsWith(
    TextClassifier.load(await folder(w, { model, config: classifierConfig(['a', 'b']) })),
    'NLU_MODEL_INVALID',
    /input input_ids must be an int64 tensor; it is int32$/,
  );
});

test('a network without a "logits" output is refused, naming what it outputs', async () => {
  const w = randomWeights(14, VOCAB, 4, LABELS.length);
  await rejectsWith(
    TextClassifier.load(await folder(w, { model: classifierOnnx(w, { outputName: 'probabilities' }) })),
    'NLU_MODEL_INVALID',
    /: model\.onnx must output "logits"; it outputs: probabilities$/,
  );
});

test('a label count that differs from the output width is refused at load, or on the first run', async () => {
  const w = randomWeights(15, VOCAB, 4, LABELS.length);
  const twoLabels = classifierConfig(['refill', 'cancel']);
  await rejectsWith(
    TextClassifier.load(await folder(w, { config: twoLabels })),
    'NLU_MODEL_INVALID',
    /model\.onnx outputs 3 logits but config\.json id2label has 2 labels$/,
  );
  // Here the width is the sequence length, which only a run can tell: logits = Cast(attention_mask).
  const perToken = onnxModel({
    nodes: [{ op: 'Cast', inputs: ['attention_mask'], output: 'logits', ints: { to: 1 } }],
    inputs: ['input_ids', 'attention_mask'].map((name) => ({
      name,
      elem: 'int64',
      dims: ['batch', 'sequence'],
    })),
    outputs: [{ name: 'logits', elem: 'float', dims: ['batch', 'sequence'] }],
  });
  await withClassifier(await folder(w, { model: perToken }), async (classifier) => {
    // [CLS] hours [SEP]: three logits for three labels, all equal.
    assert.deepEqual([...(await classifier.probabilities('hours'))], [1 / 3, 1 / 3, 1 / 3].map(Math.fround));
    await rejectsWith(
      classifier.probabilities('refill my'),
      'NLU_MODEL_INVALID',
      /model\.onnx outputs 4 logits but config\.json id2label has 3 labels$/,
    );
  });
});

test('an unsupported tokenizer model is refused, naming its type and the supported ones', async () => {
  const w = randomWeights(16, VOCAB, 4, LABELS.length);
  const wordLevel = wordPieceTokenizer(WORDS);
  const model = wordLevel['model'] as Record<string, unknown>;
  wordLevel['model'] = { type: 'WordLevel', vocab: model['vocab'], unk_token: '[UNK]' };
  await rejectsWith(
    TextClassifier.load(await folder(w, { tokenizer: wordLevel })),
    'NLU_MODEL_INVALID',
    /tokenizer\.json has a "WordLevel" tokenizer model; supported: WordPiece, BPE, Unigram$/,
  );
  const untyped = wordPieceTokenizer(WORDS);
  delete (untyped['model'] as Record<string, unknown>)['type'];
  await rejectsWith(
    TextClassifier.load(await folder(w, { tokenizer: untyped })),
    'NLU_MODEL_INVALID',
    /tokenizer model without a type; supported: WordPiece, BPE, Unigram$/,
  );
  // A component the library does not know is refused with the library's own words.
  const bogus = wordPieceTokenizer(WORDS);
  bogus['normalizer'] = { type: 'Bogus' };
  await rejectsWith(
    TextClassifier.load(await folder(w, { tokenizer: bogus })),
    'NLU_MODEL_INVALID',
    /the tokenizer library refused tokenizer\.json \(Unknown Normalizer type: Bogus\)$/,
  );
  await rejectsWith(
    TextClassifier.load(await folder(w, { tokenizer: '{"model": ' })),
    'NLU_MODEL_INVALID',
    /tokenizer\.json is not valid JSON$/,
  );
  await rejectsWith(
    TextClassifier.load(await folder(w, { tokenizerConfig: '[1, 2' })),
    'NLU_MODEL_INVALID',
    /tokenizer_config\.json is not valid JSON$/,
  );
});

test('config.json must be JSON with a dense id2label of distinct, non-empty names', async () => {
  const w = randomWeights(17, VOCAB, 4, LABELS.length);
  const cases: [unknown, RegExp][] = [
    ['{"id2label": ', /config\.json is not valid JSON$/],
    [[1, 2, 3], /config\.json must be a JSON object$/],
    [{ model_type: 'bert' }, /config\.json has no id2label object/],
    [{ id2label: ['refill', 'cancel', 'hours'] }, /config\.json has no id2label object/],
    [
      { id2label: { '0': 'refill', '1': 'cancel', '3': 'hours' } },
      /keys "0" to "2", one per label; it has "3"$/,
    ],
    [{ id2label: { '0': 'refill', '01': 'cancel', '2': 'hours' } }, /it has "01"$/],
    [{ id2label: { '0': 'refill', '1': 'refill', '2': 'hours' } }, /id2label names "refill" more than once$/],
    [
      { id2label: { '0': 'refill', '1': ' ', '2': 'hours' } },
      /id2label\["1"\] must be a non-empty label name$/,
    ],
    [
      { id2label: { '0': 'refill', '1': 7, '2': 'hours' } },
      /id2label\["1"\] must be a non-empty label name$/,
    ],
    [{ id2label: { '0': 'score' } }, /must name at least 2 labels; it names 1$/],
    [
      { ...(classifierConfig(LABELS) as object), problem_type: 'multi_label_classification' },
      /problem_type is "multi_label_classification"/,
    ],
    [
      { ...(classifierConfig(LABELS) as object), max_position_embeddings: -1 },
      /config\.json max_position_embeddings must be a positive integer$/,
    ],
    // [CLS] and [SEP] alone fill two positions.
    [
      { ...(classifierConfig(LABELS) as object), max_position_embeddings: 2 },
      /token limit \(2\) leaves no room for text after the 2 special tokens$/,
    ],
  ];
  for (const [config, message] of cases)
    await rejectsWith(TextClassifier.load(await folder(w, { config })), 'NLU_MODEL_INVALID', message);
});

test('NaN or infinite logits reject with NLU_INFERENCE_FAILED', async () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const w = randomWeights(18, VOCAB, 4, LABELS.length);
    w.b[1] = bad;
    await withClassifier(await folder(w), async (classifier) => {
      await rejectsWith(
        classifier.probabilities('refill my order'),
        'NLU_INFERENCE_FAILED',
        /: model produced NaN or infinite logits$/,
      );
    });
  }
  // 0/0 computed inside the network.
  const w = randomWeights(19, VOCAB, 4, LABELS.length);
  const zeroMask = onnxModel({
    nodes: [
      { op: 'Gather', inputs: ['E', 'input_ids'], output: 'x' },
      { op: 'ReduceSum', inputs: ['x', 'axis1'], output: 'sum', ints: { keepdims: 0 } },
      { op: 'Sub', inputs: ['sum', 'sum'], output: 'zero' },
      { op: 'Div', inputs: ['zero', 'zero'], output: 'nan' },
      { op: 'Cast', inputs: ['attention_mask'], output: 'm', ints: { to: 1 } },
      { op: 'ReduceSum', inputs: ['m', 'axis1'], output: 'count', ints: { keepdims: 1 } },
      { op: 'Add', inputs: ['nan', 'count'], output: 'logits' },
    ],
    initializers: [
      { name: 'E', dims: [VOCAB, 3], float: w.embedding.subarray(0, VOCAB * 3) },
      { name: 'axis1', dims: [1], int64: [1] },
    ],
    inputs: ['input_ids', 'attention_mask'].map((name) => ({
      name,
      elem: 'int64',
      dims: ['batch', 'sequence'],
    })),
    outputs: [{ name: 'logits', elem: 'float', dims: ['batch', 3] }],
  });
  await withClassifier(await folder(w, { model: zeroMask }), async (classifier) => {
    await rejectsWith(classifier.probabilities('hours'), 'NLU_INFERENCE_FAILED', /NaN or infinite logits$/);
  });
});

test('a released classifier refuses to run; runs in flight finish first; releasing twice is harmless', async () => {
  const w = randomWeights(20, VOCAB, 4, LABELS.length);
  const classifier = await TextClassifier.load(await folder(w));
  const inFlight = classifier.probabilities('refill my order');
  await classifier.release();
  assertClose(await inFlight, expected(w, [CLS, ID.refill!, ID.my!, ID.order!, SEP]).probabilities, 1e-6);
  await rejectsWith(classifier.probabilities('hours'), 'NLU_INFERENCE_FAILED', /classifier was released$/);
  await classifier.release();
  await rejectsWith(classifier.probabilities('hours'), 'NLU_INFERENCE_FAILED');
});

test('bad options and non-string text are refused', async () => {
  const w = randomWeights(21, VOCAB, 4, LABELS.length);
  const dir = await folder(w);
  for (const threads of [0, 1.5, 65, NaN])
    await rejectsWith(TextClassifier.load(dir, { threads }), 'NLU_CONFIG_INVALID');
  const classifier = await TextClassifier.load(dir, { threads: 2 });
  try {
    await rejectsWith(classifier.probabilities(42 as unknown as string), 'NLU_INPUT_INVALID');
    // A text far longer than the limit is cut before tokenizing, with the same answer as a short one.
    const probs = await classifier.probabilities('hours '.repeat(200_000));
    const want = expected(w, [CLS, ...Array<number>(510).fill(ID.hours!), SEP]).probabilities;
    assertClose(probs, want, 1e-5);
  } finally {
    await classifier.release();
  }
});
