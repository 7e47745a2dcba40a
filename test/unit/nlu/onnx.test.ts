import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isSwitchboardError, type ErrorCode } from '../../../src/errors.ts';
import {
  IntentSession,
  ProtoWriter,
  encodeVarint,
  mlpToOnnx,
  type OnnxMlpWeights,
} from '../../../src/nlu/index.ts';

/** Seeded PRNG so failures reproduce. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomArray(rand: () => number, n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
}

function randomWeights(seed: number, inputDims: number, hidden: number, labels: number): OnnxMlpWeights {
  const rand = mulberry32(seed);
  return {
    inputDims,
    hidden,
    labels,
    w1: randomArray(rand, inputDims * hidden, 1 / Math.sqrt(inputDims)),
    b1: randomArray(rand, hidden, 0.1),
    w2: randomArray(rand, hidden * labels, 1 / Math.sqrt(hidden)),
    b2: randomArray(rand, labels, 0.1),
  };
}

/** softmax(relu(x · w1 + b1) · w2 + b2) per row, in float64. */
function reference(w: OnnxMlpWeights, x: Float32Array, rows: number): Float64Array {
  const out = new Float64Array(rows * w.labels);
  const h = new Float64Array(w.hidden);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < w.hidden; j++) {
      let s = w.b1[j]!;
      for (let i = 0; i < w.inputDims; i++) s += x[r * w.inputDims + i]! * w.w1[i * w.hidden + j]!;
      h[j] = Math.max(0, s);
    }
    const logits = new Float64Array(w.labels);
    for (let k = 0; k < w.labels; k++) {
      let s = w.b2[k]!;
      for (let j = 0; j < w.hidden; j++) s += h[j]! * w.w2[j * w.labels + k]!;
      logits[k] = s;
    }
    const max = Math.max(...logits);
    let sum = 0;
    for (let k = 0; k < w.labels; k++) sum += logits[k] = Math.exp(logits[k]! - max);
    for (let k = 0; k < w.labels; k++) out[r * w.labels + k] = logits[k]! / sum;
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (err) => isSwitchboardError(err, code));
}

const bytes = (...xs: number[]) => Uint8Array.from(xs);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

const tmp = mkdtempSync(join(tmpdir(), 'switchboard-onnx-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('varints match the protobuf encoding', () => {
  assert.deepEqual(encodeVarint(0), bytes(0));
  assert.deepEqual(encodeVarint(1), bytes(1));
  assert.deepEqual(encodeVarint(127), bytes(0x7f));
  assert.deepEqual(encodeVarint(128), bytes(0x80, 0x01));
  assert.deepEqual(encodeVarint(300), bytes(0xac, 0x02));
  assert.deepEqual(encodeVarint(2 ** 32), bytes(0x80, 0x80, 0x80, 0x80, 0x10));
  assert.deepEqual(
    encodeVarint(Number.MAX_SAFE_INTEGER),
    bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f),
  );
  // Negative int64 is 64-bit two's complement: ten bytes.
  assert.deepEqual(encodeVarint(-1), bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01));
  assert.deepEqual(encodeVarint(-2n), bytes(0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01));
  assert.throws(() => encodeVarint(1.5), RangeError);
  assert.throws(() => encodeVarint(1n << 64n), RangeError);
});

test('fields match the protobuf encoding', () => {
  // The examples of the protobuf encoding guide.
  assert.deepEqual(new ProtoWriter().varint(1, 150).finish(), bytes(0x08, 0x96, 0x01));
  assert.deepEqual(new ProtoWriter().string(2, 'testing').finish(), bytes(0x12, 0x07, ...ascii('testing')));
  assert.deepEqual(
    new ProtoWriter().message(3, new ProtoWriter().varint(1, 150)).finish(),
    bytes(0x1a, 0x03, 0x08, 0x96, 0x01),
  );
  assert.deepEqual(
    new ProtoWriter().packedVarints(4, [3, 270, 86942]).finish(),
    bytes(0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05),
  );
  assert.deepEqual(new ProtoWriter().fixed32(5, 0x01020304).finish(), bytes(0x2d, 0x04, 0x03, 0x02, 0x01));
  assert.deepEqual(new ProtoWriter().float(1, 1).finish(), bytes(0x0d, 0x00, 0x00, 0x80, 0x3f));
  assert.deepEqual(new ProtoWriter().float(2, -2.5).finish(), bytes(0x15, 0x00, 0x00, 0x20, 0xc0));
  assert.deepEqual(new ProtoWriter().bytes(9, bytes()).finish(), bytes(0x4a, 0x00));
  // Field 16 needs a two-byte tag.
  assert.deepEqual(new ProtoWriter().varint(16, 1).finish(), bytes(0x80, 0x01, 0x01));
  const w = new ProtoWriter().varint(1, 1).string(2, 'ab');
  assert.equal(w.length, 6);
  assert.deepEqual(w.finish(), bytes(0x08, 0x01, 0x12, 0x02, 0x61, 0x62));
  assert.throws(() => new ProtoWriter().varint(0, 1), RangeError);
  assert.throws(() => new ProtoWriter().varint(2 ** 29, 1), RangeError);
  assert.throws(() => new ProtoWriter().fixed32(1, -1), RangeError);
});

test('the model starts with ir_version 8 and the producer, and writing is deterministic', () => {
  const w = randomWeights(1, 8, 4, 3);
  const model = mlpToOnnx(w);
  assert.deepEqual([...model.subarray(0, 15)], [0x08, 0x08, 0x12, 0x0b, ...ascii('switchboard')]);
  assert.deepEqual(mlpToOnnx(w), model);
  const custom = mlpToOnnx(w, { producer: 'trainer', version: '2.1' });
  assert.deepEqual(
    [...custom.subarray(0, 16)],
    [0x08, 0x08, 0x12, 0x07, ...ascii('trainer'), 0x1a, 0x03, ...ascii('2.1')],
  );
});

test('mlpToOnnx refuses weights that do not match their shape or are not finite', () => {
  const good = randomWeights(2, 6, 4, 3);
  for (const bad of [
    { ...good, inputDims: 0 },
    { ...good, hidden: 2.5 },
    { ...good, w1: good.w1.subarray(1) },
    { ...good, b1: new Float32Array(5) },
    { ...good, w2: new Float32Array(13) },
    { ...good, b2: new Float32Array(2) },
    { ...good, b2: Float32Array.from([0, Number.NaN, 0]) },
    { ...good, w1: Float32Array.from(good.w1, (v, i) => (i === 7 ? Infinity : v)) },
  ])
    assert.throws(
      () => mlpToOnnx(bad),
      (err) => isSwitchboardError(err, 'NLU_MODEL_INVALID'),
    );
});

test('onnxruntime matches the reference forward pass for single rows and a batch', async () => {
  for (const [seed, inputDims, hidden, labels] of [
    [7, 16, 8, 3],
    [8, 256, 32, 5],
    [9, 1024, 64, 12],
  ] as const) {
    const w = randomWeights(seed, inputDims, hidden, labels);
    const session = await IntentSession.load(mlpToOnnx(w));
    try {
      assert.equal(session.inputDims, inputDims);
      assert.equal(session.labels, labels);
      const rand = mulberry32(seed * 1000);
      for (let n = 0; n < 5; n++) {
        const x = randomArray(rand, inputDims, 1);
        const got = await session.run(x);
        assert.equal(got.length, labels);
        assert.ok(maxAbsDiff(got, reference(w, x, 1)) < 1e-5, `seed ${seed} row ${n}`);
        assert.ok(Math.abs(got.reduce((a, b) => a + b, 0) - 1) < 1e-5);
      }
      const rows = 9;
      const batch = randomArray(rand, rows * inputDims, 1);
      const got = await session.runBatch(batch, rows);
      assert.equal(got.length, rows * labels);
      assert.ok(maxAbsDiff(got, reference(w, batch, rows)) < 1e-5, `seed ${seed} batch`);
      // Rows are independent: row 3 of the batch equals row 3 run alone.
      const row3 = await session.run(batch.slice(3 * inputDims, 4 * inputDims));
      assert.ok(maxAbsDiff(row3, got.subarray(3 * labels, 4 * labels)) < 1e-6);
    } finally {
      await session.release();
    }
  }
});

test('a model loads from a file path too', async () => {
  const w = randomWeights(11, 32, 8, 4);
  const path = join(tmp, 'intent.onnx');
  writeFileSync(path, mlpToOnnx(w));
  const session = await IntentSession.load(path);
  const x = randomArray(mulberry32(12), 32, 1);
  assert.ok(maxAbsDiff(await session.run(x), reference(w, x, 1)) < 1e-5);
  await session.release();
  await rejectsWith(IntentSession.load(join(tmp, 'missing.onnx')), 'NLU_MODEL_INVALID');
});

test('truncated, garbage and empty models reject with a typed error and the process carries on', async () => {
  const model = mlpToOnnx(randomWeights(13, 64, 16, 4));
  const rand = mulberry32(14);
  const garbage = Uint8Array.from({ length: 4096 }, () => Math.floor(rand() * 256));
  await rejectsWith(IntentSession.load(model.subarray(0, model.length >> 1)), 'NLU_MODEL_INVALID');
  await rejectsWith(IntentSession.load(model.subarray(0, 20)), 'NLU_MODEL_INVALID');
  await rejectsWith(IntentSession.load(garbage), 'NLU_MODEL_INVALID');
  await rejectsWith(IntentSession.load(new Uint8Array(0)), 'NLU_MODEL_INVALID');
  // The runtime still works afterwards.
  const session = await IntentSession.load(model);
  assert.equal((await session.run(new Float32Array(64))).length, 4);
  await session.release();
});

test('a valid ONNX model with another input name is refused', async () => {
  // Identity from `input` [batch, 3] to "probabilities": parses and runs either way; only the name differs.
  const identity = (input: string) => {
    const valueInfo = (name: string) => {
      const shape = new ProtoWriter()
        .message(1, new ProtoWriter().string(2, 'batch'))
        .message(1, new ProtoWriter().varint(1, 3));
      const tensorType = new ProtoWriter().varint(1, 1).message(2, shape);
      return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
    };
    const graph = new ProtoWriter()
      .message(1, new ProtoWriter().string(1, input).string(2, 'probabilities').string(4, 'Identity'))
      .string(2, 'g')
      .message(11, valueInfo(input))
      .message(12, valueInfo('probabilities'));
    return new ProtoWriter()
      .varint(1, 8)
      .message(7, graph)
      .message(8, new ProtoWriter().string(1, '').varint(2, 17))
      .finish();
  };
  await assert.rejects(
    IntentSession.load(identity('x')),
    (err) => isSwitchboardError(err, 'NLU_MODEL_INVALID') && /"features"/.test(err.message),
  );
  const session = await IntentSession.load(identity('features'));
  assert.equal(session.inputDims, 3);
  assert.deepEqual(await session.run(Float32Array.from([1, 2, 3])), Float32Array.from([1, 2, 3]));
  await session.release();
});

test('wrong input sizes reject with NLU_INPUT_INVALID', async () => {
  const session = await IntentSession.load(mlpToOnnx(randomWeights(15, 10, 4, 3)));
  try {
    await rejectsWith(session.run(new Float32Array(9)), 'NLU_INPUT_INVALID');
    await rejectsWith(session.run(new Float32Array(11)), 'NLU_INPUT_INVALID');
    await rejectsWith(session.runBatch(new Float32Array(20), 3), 'NLU_INPUT_INVALID');
    await rejectsWith(session.runBatch(new Float32Array(0), 0), 'NLU_INPUT_INVALID');
    await rejectsWith(session.runBatch(new Float32Array(20), 1.5), 'NLU_INPUT_INVALID');
    await rejectsWith(session.run(new Float64Array(10) as unknown as Float32Array), 'NLU_INPUT_INVALID');
    assert.equal((await session.runBatch(new Float32Array(20), 2)).length, 6);
  } finally {
    await session.release();
  }
});

test('threads is respected and validated', async () => {
  const w = randomWeights(16, 128, 16, 5);
  const model = mlpToOnnx(w);
  const x = randomArray(mulberry32(17), 128, 1);
  for (const threads of [1, 2]) {
    const session = await IntentSession.load(model, { threads });
    assert.ok(maxAbsDiff(await session.run(x), reference(w, x, 1)) < 1e-5, `threads ${threads}`);
    await session.release();
  }
  for (const threads of [0, -1, 1.5, 1000, Number.NaN])
    await rejectsWith(IntentSession.load(model, { threads }), 'NLU_CONFIG_INVALID');
});

test('a released session refuses to run and releasing twice is harmless', async () => {
  const session = await IntentSession.load(mlpToOnnx(randomWeights(18, 4, 2, 2)));
  await session.release();
  await session.release();
  await rejectsWith(session.run(new Float32Array(4)), 'NLU_INFERENCE_FAILED');
});
