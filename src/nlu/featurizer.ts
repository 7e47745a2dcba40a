/**
 * Hashed bag-of-n-grams features for the intent model, shared by the trainer and the runtime so both see
 * exactly the same vector for the same utterance.
 *
 * Each feature has a key `${kind}${n}\u0002${body}`: kind `w` for word n-grams (body = the n words joined by
 * "\u0001") and `c` for character n-grams (body = n code points of the word padded as "<word>"). Neither
 * separator nor "<" ">" survives normalizeUtterance, so distinct features never share a key.
 *
 * The hash is {@link featureHash}: 32-bit FNV-1a over the key's UTF-8 bytes, then MurmurHash3's fmix32
 * finalizer so the low bits used as the index are well mixed. Index = hash & (dims - 1); bit 31 picks the sign
 * (+1 when clear, -1 when set), so features that collide cancel on average instead of always adding up (the
 * signed "hashing trick"). A trained model depends on these exact values: tests pin them.
 */
import { SwitchboardError } from '../errors.ts';
import { normalizeUtterance } from './normalize.ts';

export interface FeaturizerConfig {
  /** Size of the hashed feature space: a power of two, 256..65536. */
  dims: number;
  /** Word n-gram sizes, each 1..6, e.g. [1, 2]. */
  wordNgrams: readonly number[];
  /** Character n-gram sizes over each word padded as "<word>", each 1..6; [] to disable. */
  charNgrams: readonly number[];
  /** Only true is accepted: normalizeUtterance always folds case. Kept so a saved config states it. */
  lowercase?: boolean;
  /** Use 1 + ln(count) instead of the count (sign kept). */
  sublinearTf?: boolean;
  normalize?: 'l2' | 'none';
}

export const DEFAULT_FEATURIZER: Readonly<FeaturizerConfig> = Object.freeze({
  dims: 4096,
  wordNgrams: Object.freeze([1, 2]),
  charNgrams: Object.freeze([3, 4]),
  lowercase: true,
  sublinearTf: true,
  normalize: 'l2',
});

/** Normalized text beyond this many UTF-16 code units is cut, so work per utterance is bounded. */
export const MAX_NORMALIZED_CHARS = 1000;
// Raw input is cut too, so a megabyte string costs no more than normalizing this much. Only text that is
// overwhelmingly punctuation could normalize to fewer than 1000 characters from this many.
const MAX_RAW_CHARS = 32 * MAX_NORMALIZED_CHARS;
const MAX_N = 6;
const KEYS = new Set(['dims', 'wordNgrams', 'charNgrams', 'lowercase', 'sublinearTf', 'normalize']);

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const WORD_SEPARATOR = 0x01;
const KEY_SEPARATOR = 0x02;
const PAD_START = 0x3c; // "<"
const PAD_END = 0x3e; // ">"
const KIND_WORD = 0x77; // "w"
const KIND_CHAR = 0x63; // "c"

function fail(field: string, detail: string): never {
  throw new SwitchboardError('NLU_CONFIG_INVALID', `${field} ${detail}`, { field });
}

function ngramSizes(value: unknown, field: string): number[] {
  if (!Array.isArray(value)) fail(field, 'must be an array of integers 1..6');
  const sizes = value as unknown[];
  for (const n of sizes)
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_N)
      fail(field, 'must contain only integers 1..6');
  if (new Set(sizes).size !== sizes.length) fail(field, 'must not repeat a size');
  return [...(sizes as number[])];
}

/** A complete config (defaults filled in) from untrusted input; throws NLU_CONFIG_INVALID naming the field. */
export function validateFeaturizerConfig(config: unknown): FeaturizerConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    fail('config', 'must be an object');
  const input = config as Record<string, unknown>;
  for (const key of Object.keys(input)) if (!KEYS.has(key)) fail(key, 'is not a known featurizer option');

  const dims = input['dims'] ?? DEFAULT_FEATURIZER.dims;
  if (
    typeof dims !== 'number' ||
    !Number.isInteger(dims) ||
    dims < 256 ||
    dims > 65536 ||
    (dims & (dims - 1)) !== 0
  )
    fail('dims', 'must be a power of two from 256 to 65536');
  const wordNgrams = ngramSizes(input['wordNgrams'] ?? DEFAULT_FEATURIZER.wordNgrams, 'wordNgrams');
  const charNgrams = ngramSizes(input['charNgrams'] ?? DEFAULT_FEATURIZER.charNgrams, 'charNgrams');
  if (wordNgrams.length === 0 && charNgrams.length === 0)
    fail('wordNgrams', 'and charNgrams cannot both be empty');
  const lowercase = input['lowercase'] ?? true;
  if (lowercase !== true) fail('lowercase', 'must be true (normalization always folds case)');
  const sublinearTf = input['sublinearTf'] ?? true;
  if (typeof sublinearTf !== 'boolean') fail('sublinearTf', 'must be a boolean');
  const normalize = input['normalize'] ?? 'l2';
  if (normalize !== 'l2' && normalize !== 'none') fail('normalize', "must be 'l2' or 'none'");
  return { dims, wordNgrams, charNgrams, lowercase, sublinearTf, normalize };
}

/** FNV-1a 32-bit step over the UTF-8 bytes of one code point. */
function feed(h: number, cp: number): number {
  if (cp < 0x80) return Math.imul(h ^ cp, FNV_PRIME) >>> 0;
  if (cp < 0x800) {
    h = Math.imul(h ^ (0xc0 | (cp >> 6)), FNV_PRIME);
  } else {
    if (cp < 0x10000) {
      h = Math.imul(h ^ (0xe0 | (cp >> 12)), FNV_PRIME);
    } else {
      h = Math.imul(h ^ (0xf0 | (cp >> 18)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((cp >> 12) & 0x3f)), FNV_PRIME);
    }
    h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME);
  }
  return Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV_PRIME) >>> 0;
}

/** MurmurHash3's 32-bit finalizer: spreads every input bit over the low bits used as the index. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function prefix(kind: number, n: number): number {
  return feed(feed(feed(FNV_OFFSET, kind), 0x30 + n), KEY_SEPARATOR);
}

/** Plain 32-bit FNV-1a of a string's UTF-8 bytes (lone surrogates count as U+FFFD). */
export function fnv1a32(text: string): number {
  let h = FNV_OFFSET;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    h = feed(h, cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp);
  }
  return h;
}

/** The hash of a feature key as the featurizer uses it: fmix32(FNV-1a(UTF-8 of key)). */
export function featureHash(key: string): number {
  return fmix32(fnv1a32(key));
}

export class Featurizer {
  readonly config: Readonly<FeaturizerConfig>;
  private readonly mask: number;
  private readonly wordNgrams: readonly number[];
  private readonly charNgrams: readonly number[];
  private readonly sublinear: boolean;
  private readonly l2: boolean;
  // Scratch kept between calls so featurize allocates only what normalization itself does: `acc` is all zeros
  // between calls, `seen` marks indices already listed in `touched`.
  private readonly acc: Float32Array;
  private readonly seen: Uint8Array;
  private readonly touched: Uint32Array;
  private touchedCount = 0;
  private readonly cps = new Uint32Array(MAX_NORMALIZED_CHARS);
  private readonly tokenStart = new Uint32Array(MAX_NORMALIZED_CHARS);
  private readonly tokenEnd = new Uint32Array(MAX_NORMALIZED_CHARS);

  constructor(config: FeaturizerConfig) {
    const valid = validateFeaturizerConfig(config);
    this.config = Object.freeze({
      ...valid,
      wordNgrams: Object.freeze([...valid.wordNgrams]),
      charNgrams: Object.freeze([...valid.charNgrams]),
    });
    this.mask = valid.dims - 1;
    this.wordNgrams = this.config.wordNgrams;
    this.charNgrams = this.config.charNgrams;
    this.sublinear = valid.sublinearTf !== false;
    this.l2 = valid.normalize !== 'none';
    this.acc = new Float32Array(valid.dims);
    this.seen = new Uint8Array(valid.dims);
    this.touched = new Uint32Array(valid.dims);
  }

  /** Dense vector of length dims; reuses `out` when given (no allocation on the hot path). */
  featurize(text: string, out?: Float32Array): Float32Array {
    const dims = this.config.dims;
    if (out === undefined) out = new Float32Array(dims);
    else if (out.length !== dims) fail('out', 'must have length dims');
    else out.fill(0);
    this.compute(text);
    const { acc, seen, touched } = this;
    for (let i = 0; i < this.touchedCount; i++) {
      const index = touched[i]!;
      out[index] = acc[index]!;
      acc[index] = 0;
      seen[index] = 0;
    }
    this.touchedCount = 0;
    return out;
  }

  /** Sparse form for training: sorted unique indices and their values (exact zeros left out). */
  sparse(text: string): { indices: Uint32Array; values: Float32Array } {
    this.compute(text);
    const { acc, seen } = this;
    const order = this.touched.slice(0, this.touchedCount).sort();
    let nonzero = 0;
    for (const index of order) if (acc[index] !== 0) nonzero++;
    const indices = new Uint32Array(nonzero);
    const values = new Float32Array(nonzero);
    let k = 0;
    for (const index of order) {
      if (acc[index] !== 0) {
        indices[k] = index;
        values[k++] = acc[index]!;
      }
      acc[index] = 0;
      seen[index] = 0;
    }
    this.touchedCount = 0;
    return { indices, values };
  }

  /** Fills `acc` at the listed `touched` indices with the final (weighted, normalized) values. */
  private compute(text: string): void {
    const count = this.tokenize(text);
    const { cps, tokenStart, tokenEnd } = this;

    for (const n of this.wordNgrams) {
      const base = prefix(KIND_WORD, n);
      for (let t = 0; t + n <= count; t++) {
        let h = base;
        for (let j = t; j < t + n; j++) {
          if (j > t) h = feed(h, WORD_SEPARATOR);
          for (let p = tokenStart[j]!; p < tokenEnd[j]!; p++) h = feed(h, cps[p]!);
        }
        this.add(h);
      }
    }

    for (const n of this.charNgrams) {
      const base = prefix(KIND_CHAR, n);
      for (let t = 0; t < count; t++) {
        const start = tokenStart[t]!;
        const padded = tokenEnd[t]! - start + 2;
        for (let g = 0; g + n <= padded; g++) {
          let h = base;
          for (let p = g; p < g + n; p++)
            h = feed(h, p === 0 ? PAD_START : p === padded - 1 ? PAD_END : cps[start + p - 1]!);
          this.add(h);
        }
      }
    }

    const { acc, touched } = this;
    let sumSquares = 0;
    for (let i = 0; i < this.touchedCount; i++) {
      const index = touched[i]!;
      const v = acc[index]!;
      if (this.sublinear && v !== 0) acc[index] = Math.sign(v) * (1 + Math.log(Math.abs(v)));
      sumSquares += acc[index]! * acc[index]!;
    }
    if (this.l2 && sumSquares > 0) {
      const scale = 1 / Math.sqrt(sumSquares);
      for (let i = 0; i < this.touchedCount; i++) acc[touched[i]!]! *= scale;
    }
  }

  private add(fnv: number): void {
    const h = fmix32(fnv);
    const index = h & this.mask;
    this.acc[index]! += h >>> 31 === 0 ? 1 : -1;
    if (this.seen[index] === 0) {
      this.seen[index] = 1;
      this.touched[this.touchedCount++] = index;
    }
  }

  /** Normalizes and cuts the text into `cps`, recording word boundaries; returns the number of words. */
  private tokenize(text: string): number {
    if (typeof text !== 'string') return 0;
    const raw = text.length > MAX_RAW_CHARS ? text.slice(0, MAX_RAW_CHARS) : text;
    const normalized = normalizeUtterance(raw);
    const end = Math.min(normalized.length, MAX_NORMALIZED_CHARS);
    const { cps, tokenStart, tokenEnd } = this;
    let length = 0;
    let count = 0;
    let inWord = false;
    for (let i = 0; i < end; i++) {
      let cp = normalized.charCodeAt(i);
      if (cp >= 0xd800 && cp <= 0xdbff) {
        const low = i + 1 < end ? normalized.charCodeAt(i + 1) : 0;
        // A pair cut by the limit is dropped rather than hashed as half a character.
        if (low < 0xdc00 || low > 0xdfff) break;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
      if (cp === 0x20) {
        if (inWord) tokenEnd[count++] = length;
        inWord = false;
        continue;
      }
      if (!inWord) tokenStart[count] = length;
      inWord = true;
      cps[length++] = cp;
    }
    if (inWord) tokenEnd[count++] = length;
    return count;
  }
}
