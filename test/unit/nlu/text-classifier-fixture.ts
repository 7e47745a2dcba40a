/**
 * Small Hugging Face-layout classifiers for the TextClassifier tests: ONNX graphs written with the project's
 * protobuf writer, whose output the tests can compute exactly, and hand-written tokenizer.json files.
 *
 * The classifier network is a masked mean of token embeddings followed by a linear layer:
 *   x_t = E[input_ids_t] (+ T[token_type_ids_t])
 *   logits = (sum_t mask_t x_t / sum_t mask_t) · W + B
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProtoWriter } from '../../../src/nlu/protobuf.ts';

// onnx.proto field numbers and enums (IR version 8, opset 17), as in src/nlu/onnx-writer.ts.
const Model = { irVersion: 1, producerName: 2, graph: 7, opsetImport: 8 } as const;
const Opset = { domain: 1, version: 2 } as const;
const Graph = { node: 1, name: 2, initializer: 5, input: 11, output: 12 } as const;
const Node = { input: 1, output: 2, name: 3, opType: 4, attribute: 5 } as const;
const Attr = { name: 1, i: 3, type: 20 } as const;
const Tensor = { dims: 1, dataType: 2, name: 8, rawData: 9 } as const;
const ValueInfo = { name: 1, type: 2 } as const;
const ATTR_INT = 2;
export const ElemType = { float: 1, int32: 6, int64: 7 } as const;
export type Elem = keyof typeof ElemType;

export interface ValueSpec {
  name: string;
  elem: Elem;
  /** Numbers are fixed sizes, strings symbolic ones. */
  dims: readonly (number | string)[];
}

export interface NodeSpec {
  op: string;
  inputs: readonly string[];
  output: string;
  ints?: Record<string, number>;
}

export interface InitializerSpec {
  name: string;
  dims: readonly number[];
  float?: Float32Array;
  int64?: readonly number[];
}

function valueInfo(v: ValueSpec): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims)
    shape.message(1, typeof d === 'number' ? new ProtoWriter().varint(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().varint(1, ElemType[v.elem]).message(2, shape);
  return new ProtoWriter()
    .string(ValueInfo.name, v.name)
    .message(ValueInfo.type, new ProtoWriter().message(1, tensorType));
}

function initializer(t: InitializerSpec): ProtoWriter {
  let raw: Uint8Array;
  let type: number;
  if (t.float !== undefined) {
    raw = new Uint8Array(t.float.length * 4);
    const view = new DataView(raw.buffer);
    t.float.forEach((x, i) => view.setFloat32(i * 4, x, true));
    type = ElemType.float;
  } else {
    const values = t.int64 ?? [];
    raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    values.forEach((x, i) => view.setBigInt64(i * 8, BigInt(x), true));
    type = ElemType.int64;
  }
  return new ProtoWriter()
    .packedVarints(Tensor.dims, t.dims)
    .varint(Tensor.dataType, type)
    .string(Tensor.name, t.name)
    .bytes(Tensor.rawData, raw);
}

function node(n: NodeSpec): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(Node.input, i);
  w.string(Node.output, n.output).string(Node.name, n.output).string(Node.opType, n.op);
  for (const [name, value] of Object.entries(n.ints ?? {}))
    w.message(
      Node.attribute,
      new ProtoWriter().string(Attr.name, name).varint(Attr.i, value).varint(Attr.type, ATTR_INT),
    );
  return w;
}

/** A serialized ModelProto of one graph. */
export function onnxModel(g: {
  nodes: readonly NodeSpec[];
  initializers?: readonly InitializerSpec[];
  inputs: readonly ValueSpec[];
  outputs: readonly ValueSpec[];
}): Uint8Array {
  const graph = new ProtoWriter();
  for (const n of g.nodes) graph.message(Graph.node, node(n));
  graph.string(Graph.name, 'test_graph');
  for (const t of g.initializers ?? []) graph.message(Graph.initializer, initializer(t));
  for (const v of g.inputs) graph.message(Graph.input, valueInfo(v));
  for (const v of g.outputs) graph.message(Graph.output, valueInfo(v));
  return new ProtoWriter()
    .varint(Model.irVersion, 8)
    .string(Model.producerName, 'switchboard-test')
    .message(Model.graph, graph)
    .message(Model.opsetImport, new ProtoWriter().string(Opset.domain, '').varint(Opset.version, 17))
    .finish();
}

export interface ClassifierWeights {
  vocab: number;
  dims: number;
  labels: number;
  /** [vocab, dims] token embeddings. */
  embedding: Float32Array;
  /** [2, dims] token type embeddings; when given, the network takes token_type_ids. */
  typeEmbedding?: Float32Array;
  /** [dims, labels] and [labels]. */
  w: Float32Array;
  b: Float32Array;
}

export interface ClassifierGraphOptions {
  /** Declared width of logits: a number, or a symbolic name. Default: the number of labels. */
  outputWidth?: number | string;
  outputName?: string;
  /** A fixed sequence length for every input instead of a symbolic one. */
  fixedLength?: number;
}

/** Seeded PRNG so failures reproduce. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomWeights(
  seed: number,
  vocab: number,
  dims: number,
  labels: number,
  withTypes = false,
): ClassifierWeights {
  const rand = mulberry32(seed);
  const array = (n: number, scale: number) =>
    Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
  return {
    vocab,
    dims,
    labels,
    embedding: array(vocab * dims, 2),
    typeEmbedding: withTypes ? array(2 * dims, 2) : undefined,
    w: array(dims * labels, 1),
    b: array(labels, 0.5),
  };
}

/** The masked-mean classifier as ONNX. */
export function classifierOnnx(w: ClassifierWeights, options: ClassifierGraphOptions = {}): Uint8Array {
  const seq = options.fixedLength ?? 'sequence';
  const types = w.typeEmbedding !== undefined;
  const ints = (name: string, values: number[]): InitializerSpec => ({
    name,
    dims: [values.length],
    int64: values,
  });
  const nodes: NodeSpec[] = [{ op: 'Gather', inputs: ['E', 'input_ids'], output: 'tok' }];
  if (types)
    nodes.push(
      { op: 'Gather', inputs: ['T', 'token_type_ids'], output: 'typ' },
      { op: 'Add', inputs: ['tok', 'typ'], output: 'x' },
    );
  const x = types ? 'x' : 'tok';
  nodes.push(
    { op: 'Cast', inputs: ['attention_mask'], output: 'm', ints: { to: ElemType.float } },
    { op: 'Unsqueeze', inputs: ['m', 'axis2'], output: 'm3' },
    { op: 'Mul', inputs: [x, 'm3'], output: 'xm' },
    { op: 'ReduceSum', inputs: ['xm', 'axis1'], output: 'sum', ints: { keepdims: 0 } },
    { op: 'ReduceSum', inputs: ['m', 'axis1'], output: 'count', ints: { keepdims: 1 } },
    { op: 'Div', inputs: ['sum', 'count'], output: 'mean' },
    { op: 'MatMul', inputs: ['mean', 'W'], output: 'mm' },
    { op: 'Add', inputs: ['mm', 'B'], output: options.outputName ?? 'logits' },
  );
  const initializers: InitializerSpec[] = [
    { name: 'E', dims: [w.vocab, w.dims], float: w.embedding },
    { name: 'W', dims: [w.dims, w.labels], float: w.w },
    { name: 'B', dims: [w.labels], float: w.b },
    ints('axis1', [1]),
    ints('axis2', [2]),
  ];
  if (types) initializers.push({ name: 'T', dims: [2, w.dims], float: w.typeEmbedding });
  const inputs: ValueSpec[] = [
    { name: 'input_ids', elem: 'int64', dims: ['batch', seq] },
    { name: 'attention_mask', elem: 'int64', dims: ['batch', seq] },
  ];
  if (types) inputs.push({ name: 'token_type_ids', elem: 'int64', dims: ['batch', seq] });
  return onnxModel({
    nodes,
    initializers,
    inputs,
    outputs: [
      {
        name: options.outputName ?? 'logits',
        elem: 'float',
        dims: ['batch', options.outputWidth ?? w.labels],
      },
    ],
  });
}

/** What the network computes for one sequence, in float64: logits and their softmax. */
export function expected(
  w: ClassifierWeights,
  ids: readonly number[],
  opts: { mask?: readonly number[]; types?: readonly number[] } = {},
): { logits: Float64Array; probabilities: Float64Array } {
  const mean = new Float64Array(w.dims);
  let count = 0;
  ids.forEach((id, t) => {
    const m = opts.mask?.[t] ?? 1;
    count += m;
    for (let d = 0; d < w.dims; d++) {
      let v = w.embedding[id * w.dims + d]!;
      if (w.typeEmbedding !== undefined) v += w.typeEmbedding[(opts.types?.[t] ?? 0) * w.dims + d]!;
      mean[d]! += m * v;
    }
  });
  for (let d = 0; d < w.dims; d++) mean[d]! /= count;
  const logits = new Float64Array(w.labels);
  for (let k = 0; k < w.labels; k++) {
    let s = w.b[k]!;
    for (let d = 0; d < w.dims; d++) s += mean[d]! * w.w[d * w.labels + k]!;
    logits[k] = s;
  }
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return { logits, probabilities: exps.map((e) => e / sum) };
}

function special(id: number, content: string): Record<string, unknown> {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/**
 * A BERT-style WordPiece tokenizer.json: lowercasing BertNormalizer, BertPreTokenizer and a
 * [CLS] $A [SEP] template. `words` get the ids after the five special tokens, in order.
 */
export function wordPieceTokenizer(words: readonly string[]): Record<string, unknown> {
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const vocab = Object.fromEntries([...specials, ...words].map((t, i) => [t, i]));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((t, i) => special(i, t)),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

/** A RoBERTa-style byte-level BPE tokenizer.json: <s> $A </s>, no unknown token. */
export function byteLevelBpeTokenizer(): Record<string, unknown> {
  const tokens = ['<s>', '<pad>', '</s>', '<unk>', 'Ġ', 'r', 'e', 'f', 'i', 'l', 'Ġr', 're', 'Ġre', 'fi'];
  const more = ['ll', 'fill', 'Ġrefill', 'm', 'y', 'Ġm', 'Ġmy', 'my'];
  return {
    version: '1.0',
    truncation: null,
    padding: { strategy: 'BatchLongest', direction: 'Right', pad_id: 1, pad_type_id: 0, pad_token: '<pad>' },
    added_tokens: ['<s>', '<pad>', '</s>', '<unk>'].map((t, i) => special(i, t)),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'RobertaProcessing',
      sep: ['</s>', 2],
      cls: ['<s>', 0],
      trim_offsets: true,
      add_prefix_space: true,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries([...tokens, ...more].map((t, i) => [t, i])),
      merges: [
        ['Ġ', 'r'],
        ['r', 'e'],
        ['Ġr', 'e'],
        ['f', 'i'],
        ['l', 'l'],
        ['fi', 'll'],
        ['Ġre', 'fill'],
        ['Ġ', 'm'],
        ['Ġm', 'y'],
        ['m', 'y'],
      ],
    },
  };
}

/** A T5-style Unigram tokenizer.json with a Metaspace pre-tokenizer: $A </s>. */
export function unigramTokenizer(): Record<string, unknown> {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ['<pad>', '</s>', '<unk>'].map((t, i) => special(i, t)),
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }],
    },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
      ],
      special_tokens: { '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] } },
    },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: {
      type: 'Unigram',
      unk_id: 2,
      byte_fallback: false,
      vocab: [
        ['<pad>', 0],
        ['</s>', 0],
        ['<unk>', 0],
        ['▁', -2],
        ['▁refill', -3],
        ['▁my', -3],
        ['▁re', -4],
        ['fill', -4],
        ['m', -5],
        ['y', -5],
        ['r', -6],
        ['e', -6],
        ['f', -6],
        ['i', -6],
        ['l', -6],
      ],
    },
  };
}

/** config.json of a classifier with these labels. */
export function classifierConfig(labels: readonly string[], extra: Record<string, unknown> = {}): unknown {
  return {
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    ...extra,
  };
}

/**
 * Writes a model folder. A file given as null is left out; objects are written as JSON and strings or bytes
 * as they are.
 */
export async function writeFolder(
  dir: string,
  files: {
    model: Uint8Array | null;
    tokenizer: unknown;
    config: unknown;
    tokenizerConfig?: unknown;
  },
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const entries: [string, unknown][] = [
    ['model.onnx', files.model],
    ['tokenizer.json', files.tokenizer],
    ['config.json', files.config],
    ['tokenizer_config.json', files.tokenizerConfig ?? null],
  ];
  for (const [name, content] of entries) {
    if (content === null || content === undefined) continue;
    await writeFile(
      join(dir, name),
      typeof content === 'string' || content instanceof Uint8Array ? content : JSON.stringify(content),
    );
  }
  return dir;
}
