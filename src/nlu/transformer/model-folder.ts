/**
 * A text classifier exported in the Hugging Face layout: `model.onnx` (the network), `tokenizer.json` (how text
 * becomes token ids), `config.json` (which label each logit is, how many positions the network has) and,
 * optionally, `tokenizer_config.json` (the tokenizer's limits and special tokens).
 *
 * Everything that can be checked without running the network is checked here, so a bad folder fails when it
 * is loaded, with a message naming the file and what is wrong in it, rather than on the first caller.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { SwitchboardError } from '../../errors.ts';

export const MODEL_ONNX = 'model.onnx';
export const TOKENIZER_JSON = 'tokenizer.json';
export const TOKENIZER_CONFIG_JSON = 'tokenizer_config.json';
export const CONFIG_JSON = 'config.json';

/**
 * The tokenizer models this reader accepts. @huggingface/tokenizers guesses a model for any other type from
 * the shape of its vocabulary (a WordLevel tokenizer becomes one that maps unknown words to no id at all), so
 * the type is checked here instead of trusting it to refuse.
 */
export const TOKENIZER_MODELS = ['WordPiece', 'BPE', 'Unigram'] as const;
export type TokenizerModelType = (typeof TOKENIZER_MODELS)[number];

/** Positions assumed when config.json does not say: BERT, DistilBERT and most of their kin have 512. */
export const DEFAULT_MAX_POSITIONS = 512;

export interface ModelFolder {
  dir: string;
  /** Path of model.onnx: onnxruntime opens it itself, so weights kept in external data files load too. */
  modelPath: string;
  /** id2label in id order: labels[i] names logit i. */
  labels: readonly string[];
  tokenizer: TextTokenizer;
  tokenizerType: TokenizerModelType;
  /** Most tokens one run may take, special tokens included. */
  maxTokens: number;
  /** Ids the post-processor puts before and after the text's own tokens, e.g. [CLS] and [SEP]. */
  prefixIds: readonly number[];
  suffixIds: readonly number[];
  /** Id to pad with when the network takes a fixed sequence length. */
  padId: number;
}

/**
 * The part of @huggingface/tokenizers' Tokenizer used here, restated: the package's .d.ts files import each
 * other without file extensions, which NodeNext resolution cannot follow, so TypeScript sees the class as any.
 */
export interface TextTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[]; tokens: string[] };
  token_to_id(token: string): number | undefined;
  readonly post_processor: {
    post_process(tokens: string[], pair: null, addSpecialTokens: boolean): { tokens: string[] };
  } | null;
}

const Tokenizer = HfTokenizer as unknown as new (tokenizer: object, config: object) => TextTokenizer;

type Json = Record<string, unknown>;

function invalid(detail: string, data: Record<string, unknown> = {}, cause?: unknown): SwitchboardError {
  return new SwitchboardError('NLU_MODEL_INVALID', detail, data, cause === undefined ? undefined : { cause });
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function listed(names: readonly string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** The file's text, or undefined when it does not exist; any other failure to read is NLU_MODEL_INVALID. */
async function readOptional(dir: string, name: string): Promise<string | undefined> {
  try {
    return await readFile(join(dir, name), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw invalid(`${name} could not be read`, { dir, file: name }, err);
  }
}

function parseObject(name: string, text: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(`${name} is not valid JSON`, { file: name }, err);
  }
  if (!isObject(value)) throw invalid(`${name} must be a JSON object`, { file: name });
  return value;
}

/** A limit that may be absent (undefined or null) but, when given, must be a positive integer. */
function optionalLimit(value: unknown, what: string, file: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw invalid(`${file} ${what} must be a positive integer`, { file, field: what, value });
  return value;
}

/** id2label as an array: its keys must be exactly "0".."n-1", its names non-empty and distinct. */
function parseLabels(config: Json): string[] {
  const id2label = config['id2label'];
  if (!isObject(id2label))
    throw invalid(`${CONFIG_JSON} has no id2label object naming the labels`, { file: CONFIG_JSON });
  const entries = Object.entries(id2label);
  const labels: string[] = new Array<string>(entries.length);
  for (const [key, name] of entries) {
    const id = Number(key);
    // String(id) === key refuses "01", "1.0" and " 1", which a JSON parser would not read as that id.
    if (!Number.isInteger(id) || id < 0 || id >= entries.length || String(id) !== key)
      throw invalid(
        `${CONFIG_JSON} id2label must have the keys "0" to "${entries.length - 1}", one per label; it has "${key}"`,
        { file: CONFIG_JSON, field: 'id2label' },
      );
    if (typeof name !== 'string' || name.trim() === '')
      throw invalid(`${CONFIG_JSON} id2label["${key}"] must be a non-empty label name`, {
        file: CONFIG_JSON,
        field: 'id2label',
      });
    labels[id] = name;
  }
  // A single logit is a regression or a sigmoid score: a softmax over it would always be 1.
  if (labels.length < 2)
    throw invalid(`${CONFIG_JSON} id2label must name at least 2 labels; it names ${labels.length}`, {
      file: CONFIG_JSON,
      field: 'id2label',
    });
  const seen = new Set<string>();
  for (const name of labels) {
    if (seen.has(name))
      throw invalid(`${CONFIG_JSON} id2label names "${name}" more than once`, {
        file: CONFIG_JSON,
        field: 'id2label',
      });
    seen.add(name);
  }
  // Multi-label models score each label on its own with a sigmoid; a softmax across them would mislead.
  const problem = config['problem_type'];
  if (problem !== undefined && problem !== null && problem !== 'single_label_classification')
    throw invalid(
      `${CONFIG_JSON} problem_type is ${JSON.stringify(problem)}; only single_label_classification is served`,
      { file: CONFIG_JSON, field: 'problem_type' },
    );
  return labels;
}

/**
 * tokenizer_config.json as the library wants it. Older exports write special tokens as objects
 * ({"content": "</s>", ...}) where the library expects the string itself.
 */
function tokenizerConfig(value: Json): Json {
  const content = (v: unknown): unknown =>
    isObject(v) && typeof v['content'] === 'string' ? v['content'] : v;
  const out: Json = {};
  for (const [key, v] of Object.entries(value))
    out[key] = key.endsWith('_token') ? content(v) : Array.isArray(v) ? v.map(content) : v;
  return out;
}

function tokenizerType(json: Json): TokenizerModelType {
  const model = json['model'];
  if (!isObject(model)) throw invalid(`${TOKENIZER_JSON} has no model object`, { file: TOKENIZER_JSON });
  const type = model['type'];
  if (!(TOKENIZER_MODELS as readonly unknown[]).includes(type))
    throw invalid(
      `${TOKENIZER_JSON} has a ${type === undefined ? 'tokenizer model without a type' : `${JSON.stringify(type)} tokenizer model`}; supported: ${TOKENIZER_MODELS.join(', ')}`,
      { file: TOKENIZER_JSON, type, supported: [...TOKENIZER_MODELS] },
    );
  return type as TokenizerModelType;
}

function createTokenizer(json: Json, config: Json): TextTokenizer {
  try {
    // The library insists on every component key and on added_tokens; exports always write them, possibly
    // null, so absent ones are taken as null rather than refused.
    return new Tokenizer(
      {
        normalizer: null,
        pre_tokenizer: null,
        post_processor: null,
        decoder: null,
        added_tokens: [],
        ...json,
      },
      config,
    );
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw invalid(`the tokenizer library refused ${TOKENIZER_JSON} (${why})`, { file: TOKENIZER_JSON }, err);
  }
}

/**
 * Where the text goes among the post-processor's special tokens, learned once by passing one placeholder
 * token through it. The classifier then encodes a text without special tokens, truncates the text's own
 * tokens and wraps them, which is what Hugging Face does and keeps [SEP] or </s> at the end of a long text.
 */
function specialTokens(tokenizer: TextTokenizer): { prefixIds: number[]; suffixIds: number[] } {
  const post = tokenizer.post_processor;
  if (post === null) return { prefixIds: [], suffixIds: [] };
  const placeholder = '\u{10FFFF}text\u{10FFFF}';
  let tokens: string[];
  let ids: number[];
  try {
    tokens = post.post_process([placeholder], null, true).tokens;
    ids = tokenizer.encode('').ids;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw invalid(`the tokenizer library refused ${TOKENIZER_JSON} (${why})`, { file: TOKENIZER_JSON }, err);
  }
  const at = tokens.indexOf(placeholder);
  if (at < 0 || tokens.lastIndexOf(placeholder) !== at || ids.length !== tokens.length - 1)
    throw invalid(`${TOKENIZER_JSON} post-processor does not wrap a text in fixed special tokens`, {
      file: TOKENIZER_JSON,
    });
  if (!ids.every((id) => Number.isInteger(id) && id >= 0))
    throw invalid(`${TOKENIZER_JSON} post-processor adds special tokens that have no id`, {
      file: TOKENIZER_JSON,
      tokens: tokens.filter((t) => t !== placeholder),
    });
  return { prefixIds: ids.slice(0, at), suffixIds: ids.slice(at) };
}

function padId(json: Json, config: Json, tokenizer: TextTokenizer): number {
  const padding = json['padding'];
  if (isObject(padding) && Number.isInteger(padding['pad_id'])) return padding['pad_id'] as number;
  const token = config['pad_token'];
  const id = typeof token === 'string' ? tokenizer.token_to_id(token) : undefined;
  return id ?? 0;
}

/**
 * Reads and checks a model folder. Missing files, unreadable or malformed JSON, labels that are not a dense
 * 0..n-1 list of distinct names, unsupported tokenizer models and limits too small for the special tokens
 * all reject with NLU_MODEL_INVALID. model.onnx itself is only checked to be a non-empty file here: the
 * classifier checks its inputs and outputs once onnxruntime has opened it.
 */
export async function readModelFolder(dir: string): Promise<ModelFolder> {
  try {
    if (!(await stat(dir)).isDirectory()) throw invalid('model folder is not a folder', { dir });
  } catch (err) {
    if (err instanceof SwitchboardError) throw err;
    throw invalid('model folder does not exist or cannot be read', { dir }, err);
  }

  const modelPath = join(dir, MODEL_ONNX);
  const [configText, tokenizerText, tokenizerConfigText, modelSize] = await Promise.all([
    readOptional(dir, CONFIG_JSON),
    readOptional(dir, TOKENIZER_JSON),
    readOptional(dir, TOKENIZER_CONFIG_JSON),
    stat(modelPath).then(
      (s) => (s.isFile() ? s.size : -1),
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw invalid(`${MODEL_ONNX} could not be read`, { dir, file: MODEL_ONNX }, err);
      },
    ),
  ]);
  const missing = [
    modelSize === undefined ? MODEL_ONNX : '',
    tokenizerText === undefined ? TOKENIZER_JSON : '',
    configText === undefined ? CONFIG_JSON : '',
  ].filter((name) => name !== '');
  if (missing.length > 0) throw invalid(`model folder is missing ${listed(missing)}`, { dir, missing });
  if (modelSize === -1) throw invalid(`${MODEL_ONNX} is not a file`, { dir, file: MODEL_ONNX });
  if (modelSize === 0) throw invalid(`${MODEL_ONNX} is empty`, { dir, file: MODEL_ONNX });

  const config = parseObject(CONFIG_JSON, configText!);
  const labels = parseLabels(config);
  const positions =
    optionalLimit(config['max_position_embeddings'], 'max_position_embeddings', CONFIG_JSON) ??
    DEFAULT_MAX_POSITIONS;

  const tokenizerJson = parseObject(TOKENIZER_JSON, tokenizerText!);
  const type = tokenizerType(tokenizerJson);
  const truncation = tokenizerJson['truncation'];
  if (truncation !== undefined && truncation !== null && !isObject(truncation))
    throw invalid(`${TOKENIZER_JSON} truncation must be an object or null`, { file: TOKENIZER_JSON });
  const truncateAt = isObject(truncation)
    ? optionalLimit(truncation['max_length'], 'truncation.max_length', TOKENIZER_JSON)
    : undefined;

  const tokenizerOptions =
    tokenizerConfigText === undefined ? {} : parseObject(TOKENIZER_CONFIG_JSON, tokenizerConfigText);
  // Exports that set no limit write model_max_length as 1e30; it then loses to the other limits.
  const modelMax = tokenizerOptions['model_max_length'];
  if (modelMax !== undefined && modelMax !== null && !(typeof modelMax === 'number' && modelMax >= 1))
    throw invalid(`${TOKENIZER_CONFIG_JSON} model_max_length must be a positive number`, {
      file: TOKENIZER_CONFIG_JSON,
      field: 'model_max_length',
    });

  const libraryConfig = tokenizerConfig(tokenizerOptions);
  const tokenizer = createTokenizer(tokenizerJson, libraryConfig);
  const { prefixIds, suffixIds } = specialTokens(tokenizer);

  const maxTokens = Math.floor(
    Math.min(positions, truncateAt ?? Infinity, typeof modelMax === 'number' ? modelMax : Infinity),
  );
  const specials = prefixIds.length + suffixIds.length;
  if (maxTokens <= specials)
    throw invalid(
      `the token limit (${maxTokens}) leaves no room for text after the ${specials} special tokens`,
      { maxTokens, specials },
    );

  return {
    dir,
    modelPath,
    labels: Object.freeze(labels),
    tokenizer,
    tokenizerType: type,
    maxTokens,
    prefixIds: Object.freeze(prefixIds),
    suffixIds: Object.freeze(suffixIds),
    padId: padId(tokenizerJson, libraryConfig, tokenizer),
  };
}
