/**
 * Serves a Hugging Face text classifier (see model-folder.ts for the files): tokenizes one text, runs the
 * network in onnxruntime and turns its logits into one probability per label.
 *
 * The network must take input_ids and attention_mask (and may take token_type_ids), all int64
 * [batch, sequence], and output float32 logits [batch, labels], as `optimum` and `torch.onnx` exports of
 * *ForSequenceClassification models do. onnxruntime-node is loaded on first use, as in onnx-session.ts.
 *
 * Beware the cost of a run: onnxruntime-node (1.30) returns a promise but runs the graph on the main thread
 * once the promise's setImmediate fires; `threads` splits one run across cores but the event loop still waits
 * for all of it. A BERT-sized network therefore holds every call on this process for its run time.
 */
import type * as Ort from 'onnxruntime-node';
import { SwitchboardError, isSwitchboardError } from '../../errors.ts';
import { loadRuntime } from '../onnx-session.ts';
import { CONFIG_JSON, MODEL_ONNX, readModelFolder, type ModelFolder } from './model-folder.ts';

export interface TextClassifierOptions {
  /** Threads for one inference (intraOpNumThreads). Default 1: one short utterance does not need a pool. */
  threads?: number;
}

export const INPUT_IDS = 'input_ids';
export const ATTENTION_MASK = 'attention_mask';
export const TOKEN_TYPE_IDS = 'token_type_ids';
export const LOGITS = 'logits';

const MAX_THREADS = 64;
// Raw text is cut at this many characters per token of the limit before tokenizing, so a megabyte string
// costs no more than a long utterance. Only text averaging over 32 characters per token (almost all
// whitespace, or characters the normalizer drops) can lose tokens it would otherwise have kept.
const CHARS_PER_TOKEN = 32;

function invalid(detail: string, data: Record<string, unknown> = {}, cause?: unknown): SwitchboardError {
  return new SwitchboardError('NLU_MODEL_INVALID', detail, data, cause === undefined ? undefined : { cause });
}

function failed(detail: string, data: Record<string, unknown> = {}, cause?: unknown): SwitchboardError {
  return new SwitchboardError(
    'NLU_INFERENCE_FAILED',
    detail,
    data,
    cause === undefined ? undefined : { cause },
  );
}

function widthMismatch(width: number, labels: number): SwitchboardError {
  return invalid(`${MODEL_ONNX} outputs ${width} logits but ${CONFIG_JSON} id2label has ${labels} labels`, {
    outputs: width,
    labels,
  });
}

function metadata(
  list: readonly Ort.InferenceSession.ValueMetadata[],
  name: string,
): Ort.InferenceSession.ValueMetadata | undefined {
  return list.find((m) => m.name === name);
}

/**
 * Checks the inputs and returns the fixed sequence length if the network was exported with one (it is then
 * padded to that length), or undefined when the sequence axis is dynamic, as it usually is.
 */
function checkInputs(session: Ort.InferenceSession): number | undefined {
  const names = session.inputNames;
  const allowed = [INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS];
  if (
    !names.includes(INPUT_IDS) ||
    !names.includes(ATTENTION_MASK) ||
    names.some((n) => !allowed.includes(n))
  )
    throw invalid(
      `${MODEL_ONNX} must take ${INPUT_IDS} and ${ATTENTION_MASK} (and optionally ${TOKEN_TYPE_IDS}); it takes: ${names.join(', ') || 'nothing'}`,
      { inputs: [...names] },
    );
  let fixed: number | undefined;
  for (const name of names) {
    const meta = metadata(session.inputMetadata, name);
    if (!meta?.isTensor || meta.type !== 'int64')
      throw invalid(
        `${MODEL_ONNX} input ${name} must be an int64 tensor; it is ${meta?.isTensor ? meta.type : 'not a tensor'}`,
        { input: name },
      );
    // An empty shape means the model does not declare one; onnxruntime then checks at run time.
    if (meta.shape.length === 0) continue;
    const [batch, sequence] = meta.shape;
    if (meta.shape.length !== 2)
      throw invalid(`${MODEL_ONNX} input ${name} must have shape [batch, sequence]`, {
        input: name,
        shape: [...meta.shape],
      });
    if (typeof batch === 'number' && batch !== 1)
      throw invalid(`${MODEL_ONNX} input ${name} has a fixed batch of ${batch}; one text is a batch of 1`, {
        input: name,
        shape: [...meta.shape],
      });
    if (typeof sequence === 'number' && sequence > 0) {
      if (fixed !== undefined && fixed !== sequence)
        throw invalid(`${MODEL_ONNX} inputs have different fixed sequence lengths`, { input: name });
      fixed = sequence;
    }
  }
  return fixed;
}

function checkOutput(session: Ort.InferenceSession, labels: number): void {
  const names = session.outputNames;
  if (!names.includes(LOGITS))
    throw invalid(`${MODEL_ONNX} must output "${LOGITS}"; it outputs: ${names.join(', ') || 'nothing'}`, {
      outputs: [...names],
    });
  const meta = metadata(session.outputMetadata, LOGITS);
  if (!meta?.isTensor || meta.type !== 'float32')
    throw invalid(
      `${MODEL_ONNX} output ${LOGITS} must be a float32 tensor; it is ${meta?.isTensor ? meta.type : 'not a tensor'}`,
    );
  if (meta.shape.length === 0) return;
  if (meta.shape.length !== 2)
    throw invalid(`${MODEL_ONNX} output ${LOGITS} must have shape [batch, labels]`, {
      shape: [...meta.shape],
    });
  // A symbolic width is checked on every run instead.
  const width = meta.shape[1];
  if (typeof width === 'number' && width !== labels) throw widthMismatch(width, labels);
}

/** Softmax computed in float64, shifted by the largest logit so exp never overflows. */
function softmax(logits: ArrayLike<number>): Float32Array {
  let max = -Infinity;
  for (let k = 0; k < logits.length; k++) {
    const v = logits[k]!;
    if (!Number.isFinite(v)) throw failed('model produced NaN or infinite logits', { index: k });
    if (v > max) max = v;
  }
  const exps = new Float64Array(logits.length);
  let sum = 0;
  for (let k = 0; k < logits.length; k++) sum += exps[k] = Math.exp(logits[k]! - max);
  const out = new Float32Array(logits.length);
  for (let k = 0; k < logits.length; k++) out[k] = exps[k]! / sum;
  return out;
}

export class TextClassifier {
  /** labels[i] is the label of probabilities(...)[i]. */
  readonly labels: readonly string[];
  /** Most tokens one run takes, special tokens included; a longer text loses its end. */
  readonly maxTokens: number;
  private readonly ort: typeof Ort;
  private readonly folder: ModelFolder;
  private session: Ort.InferenceSession | undefined;
  private readonly takesTokenTypes: boolean;
  private readonly fixedLength: number | undefined;
  // The mask of a run without padding is all ones and token types all zeros: views of these two arrays,
  // never written after construction, so runs in flight at the same time can share them.
  private readonly ones: BigInt64Array;
  private readonly zeros: BigInt64Array;
  private readonly running = new Set<Promise<unknown>>();

  private constructor(
    ort: typeof Ort,
    folder: ModelFolder,
    session: Ort.InferenceSession,
    fixedLength: number | undefined,
    maxTokens: number,
  ) {
    this.ort = ort;
    this.folder = folder;
    this.session = session;
    this.labels = folder.labels;
    this.maxTokens = maxTokens;
    this.fixedLength = fixedLength;
    this.takesTokenTypes = session.inputNames.includes(TOKEN_TYPE_IDS);
    this.ones = new BigInt64Array(maxTokens).fill(1n);
    this.zeros = new BigInt64Array(fixedLength ?? maxTokens);
  }

  /**
   * Loads a model folder. A missing or malformed file, a network onnxruntime refuses or one whose inputs and
   * outputs do not fit the contract rejects with NLU_MODEL_INVALID; bad options with NLU_CONFIG_INVALID.
   */
  static async load(dir: string, options: TextClassifierOptions = {}): Promise<TextClassifier> {
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS)
      throw new SwitchboardError('NLU_CONFIG_INVALID', `threads must be an integer 1..${MAX_THREADS}`, {
        field: 'threads',
      });

    const folder = await readModelFolder(dir);
    const ort = await loadRuntime();
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(folder.modelPath, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // Errors reach the caller as a typed error; the runtime's own warnings would only be noise in the log.
        logSeverityLevel: 3,
      });
    } catch (err) {
      throw invalid(`onnxruntime rejected ${MODEL_ONNX}`, { dir }, err);
    }

    try {
      const fixedLength = checkInputs(session);
      checkOutput(session, folder.labels.length);
      const maxTokens = Math.min(folder.maxTokens, fixedLength ?? Infinity);
      const specials = folder.prefixIds.length + folder.suffixIds.length;
      if (maxTokens <= specials)
        throw invalid(
          `${MODEL_ONNX} takes ${maxTokens} tokens, no room for text after the ${specials} special tokens`,
          { maxTokens, specials },
        );
      return new TextClassifier(ort, folder, session, fixedLength, maxTokens);
    } catch (err) {
      await session.release();
      throw isSwitchboardError(err) ? err : invalid(`${MODEL_ONNX} metadata could not be read`, { dir }, err);
    }
  }

  /**
   * One probability per label for `text`, summing to 1. A blank text still runs, on the special tokens alone.
   * Rejects with NLU_INFERENCE_FAILED when the runtime fails, the logits are not finite or the classifier was
   * released, and with NLU_INPUT_INVALID when text is not a string.
   */
  async probabilities(text: string): Promise<Float32Array> {
    const session = this.session;
    if (session === undefined) throw failed('classifier was released');
    if (typeof text !== 'string') throw new SwitchboardError('NLU_INPUT_INVALID', 'text must be a string');

    let feeds: Record<string, Ort.Tensor>;
    try {
      feeds = this.feeds(text);
    } catch (err) {
      throw failed('the tokenizer failed on the text', {}, err);
    }
    const run = session.run(feeds, [LOGITS]);
    this.running.add(run);
    let output: Ort.Tensor | undefined;
    try {
      output = (await run)[LOGITS];
    } catch (err) {
      throw failed('onnxruntime failed to run the model', {}, err);
    } finally {
      this.running.delete(run);
    }
    if (output?.type !== 'float32') throw failed(`model output ${LOGITS} is not float32`);
    if (output.data.length !== this.labels.length)
      throw widthMismatch(output.data.length, this.labels.length);
    return softmax(output.data as Float32Array);
  }

  /**
   * The network's inputs for one text. Truncation: the text is encoded without special tokens, its own
   * tokens are cut to fit maxTokens with the post-processor's special tokens around them, and those are then
   * added, as Hugging Face does with truncation on. A long text thus keeps its beginning and still ends in
   * [SEP] (or </s>), which classifiers are trained to see.
   */
  private feeds(text: string): Record<string, Ort.Tensor> {
    const { tokenizer, prefixIds, suffixIds, padId } = this.folder;
    const maxChars = this.maxTokens * CHARS_PER_TOKEN;
    let raw = text;
    if (raw.length > maxChars) {
      raw = raw.slice(0, maxChars);
      // Never leave half of a surrogate pair at the cut.
      if (/[\uD800-\uDBFF]$/.test(raw)) raw = raw.slice(0, -1);
    }
    const content = tokenizer.encode(raw, { add_special_tokens: false }).ids;

    const room = this.maxTokens - prefixIds.length - suffixIds.length;
    const tokens: number[] = [...prefixIds];
    for (const id of content) {
      if (tokens.length - prefixIds.length >= room) break;
      // A WordPiece or BPE vocabulary without an unknown token gives unknown words no id; like the Rust
      // tokenizers, they are dropped.
      if (Number.isInteger(id) && id >= 0) tokens.push(id);
    }
    tokens.push(...suffixIds);

    const n = tokens.length;
    const length = this.fixedLength ?? n;
    const ids = new BigInt64Array(length);
    if (length > n) ids.fill(BigInt(padId), n);
    for (let i = 0; i < n; i++) ids[i] = BigInt(tokens[i]!);
    let mask: BigInt64Array;
    if (length > n) {
      mask = new BigInt64Array(length);
      mask.fill(1n, 0, n);
    } else {
      mask = this.ones.subarray(0, n);
    }

    const dims = [1, length];
    const feeds: Record<string, Ort.Tensor> = {
      [INPUT_IDS]: new this.ort.Tensor('int64', ids, dims),
      [ATTENTION_MASK]: new this.ort.Tensor('int64', mask, dims),
    };
    if (this.takesTokenTypes)
      feeds[TOKEN_TYPE_IDS] = new this.ort.Tensor('int64', this.zeros.subarray(0, length), dims);
    return feeds;
  }

  /**
   * Frees the native session once the runs in flight have finished; later probabilities() calls reject with
   * NLU_INFERENCE_FAILED. Safe to call twice.
   */
  async release(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await Promise.allSettled([...this.running]);
    await session?.release();
  }
}
