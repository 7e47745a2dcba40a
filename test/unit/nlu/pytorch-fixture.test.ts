/**
 * The intent model trained in PyTorch and exported in the Hugging Face layout (scripts/pytorch/), kept in
 * test/fixtures/models/pharmacy-pytorch/: tokenizers.js gives the token ids the Python tokenizer trained on,
 * onnxruntime computes the logits PyTorch did, and the labels are the pharmacy flow's intents.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import type * as Ort from 'onnxruntime-node';
import { loadFlowArg } from '../../../src/cli/flow-arg.ts';
import { flowTrainingData } from '../../../src/flow/training-data.ts';
import { exampleFlowFile } from '../../fixtures/example-flows.ts';

const DIR = new URL('../../fixtures/models/pharmacy-pytorch/', import.meta.url);
const readJson = (name: string): unknown => JSON.parse(readFileSync(new URL(name, DIR), 'utf8'));

interface ParityRow {
  text: string;
  input_ids: number[];
  attention_mask: number[];
  logits: number[];
}
type Encoded = Pick<ParityRow, 'input_ids' | 'attention_mask'>;
interface TokenizerJson {
  truncation: { max_length: number } | null;
  model: { vocab: Record<string, number>; unk_token: string };
}
/**
 * The part of tokenizers.js used here. Its published type declarations import their own files without
 * extensions, which NodeNext resolution cannot follow, so TypeScript would see the class as untyped.
 */
type TokenizerClass = new (
  tokenizerJson: unknown,
  tokenizerConfig: unknown,
) => { encode(text: string): { ids: number[]; attention_mask: number[] } };
interface ModelConfig {
  id2label: Record<string, string>;
  label2id: Record<string, number>;
  max_position_embeddings: number;
  pad_token_id: number;
}

const parity = readJson('parity.json') as ParityRow[];
const tokenizerJson = readJson('tokenizer.json') as TokenizerJson;
const config = readJson('config.json') as ModelConfig;
const tokenizer = new (Tokenizer as unknown as TokenizerClass)(
  tokenizerJson,
  readJson('tokenizer_config.json'),
);
const maxLength = tokenizerJson.truncation?.max_length ?? Infinity;
const labels = Object.keys(config.id2label)
  .sort((a, b) => Number(a) - Number(b))
  .map((id) => config.id2label[id]!);

/** Largest difference allowed between PyTorch's logits and onnxruntime's. */
const TOLERANCE = 1e-4;

/**
 * A text's ids and attention mask as the model is fed them. tokenizers.js does not apply tokenizer.json's
 * truncation; Hugging Face tokenizers cuts the text's tokens to leave room for the template's special tokens,
 * and with the template [CLS] $A [SEP] that is keeping the first max_length - 1 ids and the final [SEP].
 */
function encode(text: string): Encoded {
  const { ids } = tokenizer.encode(text);
  const kept = ids.length > maxLength ? [...ids.slice(0, maxLength - 1), ids[ids.length - 1]!] : ids;
  return { input_ids: kept, attention_mask: kept.map(() => 1) };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/** One field of rows of equal length as an int64 [rows, length] tensor. */
function int64Tensor(ort: typeof Ort, rows: Encoded[], name: keyof Encoded): Ort.Tensor {
  const values = rows.flatMap((row) => row[name]);
  return new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [rows.length, rows[0]![name].length]);
}

async function withSession(body: (ort: typeof Ort, session: Ort.InferenceSession) => Promise<void>) {
  // Imported on use, as src/nlu/onnx-session.ts does: loading the native runtime is not free.
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(fileURLToPath(new URL('model.onnx', DIR)), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  try {
    await body(ort, session);
  } finally {
    await session.release();
  }
}

/** The logits of each row; the rows are of equal length. */
async function logits(ort: typeof Ort, session: Ort.InferenceSession, rows: Encoded[]): Promise<number[][]> {
  const output = await session.run({
    input_ids: int64Tensor(ort, rows, 'input_ids'),
    attention_mask: int64Tensor(ort, rows, 'attention_mask'),
  });
  const tensor = output.logits;
  assert.ok(tensor, 'the model has an output named logits');
  assert.equal(tensor.type, 'float32');
  assert.deepEqual(tensor.dims, [rows.length, labels.length]);
  const data = Array.from(tensor.data as Float32Array);
  return rows.map((_, r) => data.slice(r * labels.length, (r + 1) * labels.length));
}

test("the model's labels are the pharmacy flow's training intents, in order", async () => {
  const loaded = await loadFlowArg(exampleFlowFile('pharmacy'));
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.message);
  assert.deepEqual(
    Object.keys(config.id2label),
    labels.map((_, i) => String(i)),
    'id2label is keyed 0..n-1',
  );
  assert.deepEqual(labels, Object.keys(flowTrainingData(loaded.flow).intents));
  assert.deepEqual(config.label2id, Object.fromEntries(labels.map((name, i) => [name, i])));
});

test('the parity sentences cover unknown words and truncation', () => {
  assert.ok(parity.length >= 20, `${parity.length} parity sentences`);
  assert.equal(maxLength, config.max_position_embeddings, 'truncation stops at the last position');
  const unk = tokenizerJson.model.vocab[tokenizerJson.model.unk_token];
  assert.ok(
    parity.some((row) => row.input_ids.includes(unk!)),
    'a sentence has a word not in the vocabulary',
  );
  assert.ok(
    parity.some((row) => tokenizer.encode(row.text).ids.length > maxLength),
    'a sentence is truncated',
  );
});

test('tokenizers.js gives the ids and attention mask the model was trained on', () => {
  for (const row of parity) {
    assert.deepEqual(
      encode(row.text),
      { input_ids: row.input_ids, attention_mask: row.attention_mask },
      JSON.stringify(row.text),
    );
  }
});

test('onnxruntime computes the logits PyTorch did', async () => {
  await withSession(async (ort, session) => {
    assert.deepEqual(session.inputNames, ['input_ids', 'attention_mask']);
    assert.deepEqual(session.outputNames, ['logits']);
    for (const row of parity) {
      const [got] = await logits(ort, session, [row]);
      const diff = maxAbsDiff(got!, row.logits);
      assert.ok(diff <= TOLERANCE, `${JSON.stringify(row.text)}: logits differ by ${diff}`);
    }
  });
});

test('in a batch padded to its longest sentence, each sentence gets its own logits', async () => {
  const width = Math.max(...parity.map((row) => row.input_ids.length));
  const padded = parity.map((row) => ({
    ...row,
    input_ids: [...row.input_ids, ...Array<number>(width - row.input_ids.length).fill(config.pad_token_id)],
    attention_mask: [...row.attention_mask, ...Array<number>(width - row.attention_mask.length).fill(0)],
  }));
  await withSession(async (ort, session) => {
    const batch = await logits(ort, session, padded);
    parity.forEach((row, r) => {
      const diff = maxAbsDiff(batch[r]!, row.logits);
      assert.ok(diff <= TOLERANCE, `${JSON.stringify(row.text)}: logits differ by ${diff}`);
    });
  });
});
