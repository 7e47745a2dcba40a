/**
 * Fuzz target: intent model folders (model.json, with the featurizer's configuration that turns text into the
 * network's input, and model.onnx), as IntentModel.load reads them from the model cache. An input is JSON:
 *
 *   { "manifest": <model.json's value>, "text": <model.json's text instead>,
 *     "onnx": null (no model.onnx) | { "cut": <length>, "set": [[offset, byte], ...] }, "say": [<texts>] }
 *
 * `onnx` edits the network of a tiny model trained at setup, so the byte edits land in a real ONNX file. Any
 * input that is not JSON is model.json's text beside that network. Loading may only throw NLU_* errors; a model
 * that loads classifies what is said into one of its labels or none, then releases.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { IntentModel, MODEL_JSON, MODEL_ONNX, writeModelDir } from '../../../src/nlu/model-dir.ts';
import { train } from '../../../src/nlu/trainer.ts';
import { check, codesOf, typedAsync, type FuzzTarget } from '../target.ts';

const NLU = codesOf('NLU');

/** The options of the tiny model whose files the inputs start from (committed seeds depend on them). */
export const TINY_MODEL = {
  data: {
    intents: {
      yes: ['yes', 'yes please', 'sure', 'that is right', 'correct'],
      no: ['no', 'no thanks', 'nope', 'that is wrong', 'not at all'],
    },
  },
  options: { hidden: 8, epochs: 3, featurizer: { dims: 256, wordNgrams: [1], charNgrams: [3] } },
};

interface ModelInput {
  manifest?: unknown;
  text?: unknown;
  onnx?: { cut?: unknown; set?: unknown } | null;
  say?: unknown;
}

let dir = '';
let network = Buffer.alloc(0);
let manifest: unknown = null;

async function setup(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'switchboard-fuzz-model-'));
  await writeModelDir(train(TINY_MODEL.data, TINY_MODEL.options), dir);
  network = readFileSync(join(dir, MODEL_ONNX));
  manifest = JSON.parse(readFileSync(join(dir, MODEL_JSON), 'utf8'));
}

function parse(input: Buffer): ModelInput {
  try {
    const value = JSON.parse(input.toString('utf8')) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  } catch {
    // Not JSON: the whole input is model.json's text.
  }
  return { text: input.toString('utf8') };
}

/** The network with the input's edits: cut short, bytes replaced. */
function edited(onnx: NonNullable<ModelInput['onnx']>): Buffer {
  const bytes = Buffer.from(network);
  if (Array.isArray(onnx.set)) {
    for (const edit of onnx.set.slice(0, 64) as unknown[]) {
      if (!Array.isArray(edit)) continue;
      const [at, byte] = edit as unknown[];
      if (typeof at === 'number' && typeof byte === 'number')
        bytes[Math.abs(Math.trunc(at)) % bytes.length] = byte & 255;
    }
  }
  return typeof onnx.cut === 'number' ? bytes.subarray(0, Math.max(0, Math.trunc(onnx.cut))) : bytes;
}

async function run(input: Buffer): Promise<void> {
  const m = parse(input);
  const text = typeof m.text === 'string' ? m.text : JSON.stringify(m.manifest ?? null);
  writeFileSync(join(dir, MODEL_JSON), text);
  if (m.onnx === null) rmSync(join(dir, MODEL_ONNX), { force: true });
  else writeFileSync(join(dir, MODEL_ONNX), edited(m.onnx ?? {}));
  const model = await typedAsync(NLU, () => IntentModel.load(dir, { threads: 1 }));
  if (!model) return;
  try {
    const said = Array.isArray(m.say)
      ? m.say.filter((s): s is string => typeof s === 'string')
      : ['yes please'];
    for (const s of said.slice(0, 4)) {
      const got = await typedAsync(NLU, () => model.classify(s));
      if (!got) continue;
      check(
        got.intent === null || model.labels.includes(got.intent),
        `classified as unknown label ${got.intent}`,
      );
    }
  } finally {
    await model.release();
  }
}

const modelInput: fc.Arbitrary<Buffer> = fc
  .record({
    featurizer: fc.record(
      {
        dims: fc.constantFrom(256, 512, 255, 0, 65536, 131072),
        wordNgrams: fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 3 }),
        charNgrams: fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 3 }),
        normalize: fc.constantFrom('l2', 'none', 'max'),
        sublinearTf: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
    labels: fc.constantFrom(['no', 'yes'], ['yes'], ['a', 'b', 'c'], [], ['x', 'x']),
    threshold: fc.constantFrom(0, 0.5, 1, 2, -1),
    onnx: fc.option(
      fc.record({
        cut: fc.option(fc.nat({ max: 9000 }), { nil: undefined }),
        set: fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 4 }),
      }),
      { nil: null },
    ),
    say: fc.array(fc.string({ maxLength: 40 }), { maxLength: 3 }),
  })
  .map(({ featurizer, labels, threshold, onnx, say }) => {
    const base = manifest as Record<string, unknown> | null;
    const value = {
      ...(base ?? { formatVersion: 1, metrics: {}, dataHash: 'x' }),
      featurizer,
      labels,
      threshold,
    };
    return Buffer.from(JSON.stringify({ manifest: value, onnx, say }));
  });

export const modelDir: FuzzTarget = {
  name: 'model-dir',
  format: 'json',
  arbitrary: modelInput,
  dictionary: [
    ...[
      '"featurizer"',
      '"dims"',
      '"wordNgrams"',
      '"charNgrams"',
      '"labels"',
      '"threshold"',
      '"formatVersion"',
    ],
    ...['"lowercase"', '"sublinearTf"', '"normalize"', '"metrics"', '"dataHash"', '"onnx"', '"cut"', '"set"'],
  ],
  maxBytes: 8192,
  slowMs: 5000,
  setup,
  close: async () => rmSync(dir, { recursive: true, force: true }),
  run,
};
