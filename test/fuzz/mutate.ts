/**
 * Mutations of corpus inputs, in the manner of libFuzzer's: bytes flipped, inserted, erased and copied,
 * dictionary tokens and boundary numbers spliced in, two inputs crossed. Inputs that hold JSON are also mutated
 * as values (a node replaced, removed, retyped or moved), which keeps them parseable so they get past the
 * parser to the checks behind it. Deterministic for a given seed.
 */
import type { InputFormat } from './target.ts';

/** A small fast PRNG (mulberry32): the fuzz loop draws millions of numbers. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

const INTERESTING_BYTES = [0, 1, 0x7f, 0x80, 0xff, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x0a];
const INTERESTING_TEXT = [
  '0',
  '-1',
  '-0',
  '1e999',
  '9007199254740993',
  '1.5',
  '4294967296',
  'NaN',
  '""',
  'null',
  'true',
  '[]',
  '{}',
  '\\u0000',
  '\\ud800',
  '__proto__',
  'constructor',
  '%',
  '%zz',
  '&#1114112;',
  '&#99999999;',
  '\u2028',
  '\ufeff',
  '=',
  '&',
];
const INTERESTING_VALUES: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  -0.5,
  2 ** 31,
  2 ** 53 + 2,
  1e308,
  '',
  ' ',
  '0',
  '-1',
  '1e3',
  '__proto__',
  'x'.repeat(600),
  [],
  {},
  [null],
  { type: 'x' },
];

/** Mutates inputs of one format; `dictionary` adds the target's own tokens to the generic ones. */
export class Mutator {
  readonly #rng: Rng;
  readonly #format: InputFormat;
  readonly #tokens: readonly string[];
  readonly #maxBytes: number;

  constructor(rng: Rng, format: InputFormat, dictionary: readonly string[], maxBytes: number) {
    this.#rng = rng;
    this.#format = format;
    this.#tokens = [...dictionary, ...INTERESTING_TEXT];
    this.#maxBytes = maxBytes;
  }

  /** A mutant of `input`, sometimes crossed with `other`. */
  mutate(input: Buffer, other: Buffer): Buffer {
    const rng = this.#rng;
    let out = input;
    if (this.#format === 'json' || this.#format === 'jsonl') {
      if (rng.chance(0.5)) {
        const structured = this.#mutateJson(out, other);
        if (structured) out = structured;
        if (rng.chance(0.7)) return this.#cap(out);
      }
    }
    const rounds = 1 + rng.below(4);
    for (let i = 0; i < rounds; i++) out = this.#mutateBytes(out, other);
    return this.#cap(out);
  }

  #cap(b: Buffer): Buffer {
    return b.length > this.#maxBytes ? b.subarray(0, this.#maxBytes) : b;
  }

  #mutateBytes(b: Buffer, other: Buffer): Buffer {
    const rng = this.#rng;
    const at = rng.below(b.length + 1);
    switch (rng.below(10)) {
      case 0: {
        if (b.length === 0) return Buffer.from(rng.pick(this.#tokens));
        const c = Buffer.from(b);
        c[rng.below(c.length)]! ^= 1 << rng.below(8);
        return c;
      }
      case 1: {
        if (b.length === 0) return b;
        const c = Buffer.from(b);
        c[rng.below(c.length)] = rng.chance(0.5) ? rng.pick(INTERESTING_BYTES) : rng.below(256);
        return c;
      }
      case 2:
      case 3:
        return splice(b, at, at, Buffer.from(rng.pick(this.#tokens)));
      case 4: {
        const len = 1 + rng.below(Math.max(1, Math.min(32, b.length - at)));
        return splice(b, at, at + len, Buffer.alloc(0));
      }
      case 5: {
        // A run of bytes copied elsewhere: repeated structure, such as a key given twice.
        const from = rng.below(b.length + 1);
        const len = rng.below(Math.min(64, b.length - from) + 1);
        return splice(b, at, at, Buffer.from(b.subarray(from, from + len)));
      }
      case 6: {
        const from = rng.below(other.length + 1);
        const len = rng.below(Math.min(128, other.length - from) + 1);
        return splice(b, at, at + rng.below(16), other.subarray(from, from + len));
      }
      case 7:
        return this.#replaceNumber(b);
      case 8: {
        const bytes = Buffer.alloc(1 + rng.below(8));
        for (let i = 0; i < bytes.length; i++)
          bytes[i] = rng.chance(0.7) ? 32 + rng.below(95) : rng.below(256);
        return splice(b, at, at, bytes);
      }
      default:
        return b.subarray(0, at);
    }
  }

  /** A run of digits replaced by a boundary number. */
  #replaceNumber(b: Buffer): Buffer {
    const text = b.toString('latin1');
    const runs = [...text.matchAll(/-?\d+(\.\d+)?/g)];
    if (runs.length === 0) return b;
    const run = this.#rng.pick(runs);
    const number = this.#rng.pick([
      '0',
      '-1',
      '1',
      '65536',
      '2147483648',
      '1e21',
      '99999999999999999',
      '0.1',
    ]);
    return splice(b, run.index, run.index + run[0].length, Buffer.from(number));
  }

  /** Mutates one line's JSON as a value; null when the input is not JSON. */
  #mutateJson(b: Buffer, other: Buffer): Buffer | null {
    const rng = this.#rng;
    const lines = this.#format === 'jsonl' ? b.toString('utf8').split('\n') : [b.toString('utf8')];
    const i = rng.below(lines.length);
    if (this.#format === 'jsonl' && rng.chance(0.15)) {
      // Whole lines: dropped, repeated or swapped, as a journal torn or replayed would have them.
      const j = rng.below(lines.length);
      if (rng.chance(0.4)) lines.splice(i, 1);
      else if (rng.chance(0.5)) lines.splice(j, 0, lines[i]!);
      else [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      return Buffer.from(lines.join('\n'));
    }
    const value = parseOrNull(lines[i]!);
    if (value === undefined) return null;
    const donor = parseOrNull(rng.pick(other.toString('utf8').split('\n')));
    const mutated = this.#mutateValue(value, donor, 0);
    lines[i] = JSON.stringify(mutated);
    return Buffer.from(lines.join('\n'));
  }

  #mutateValue(value: unknown, donor: unknown, depth: number): unknown {
    const rng = this.#rng;
    const children = isContainer(value) ? Object.keys(value) : [];
    // Go deeper most of the time: the interesting fields are rarely at the top.
    if (children.length > 0 && depth < 12 && rng.chance(0.75)) {
      const key = rng.pick(children);
      const container = value as Record<string, unknown>;
      if (!Array.isArray(value) && rng.chance(0.1)) {
        delete container[key];
        return value;
      }
      container[key] = this.#mutateValue(container[key], donor, depth + 1);
      return value;
    }
    switch (rng.below(6)) {
      case 0:
        return structuredClone(rng.pick(INTERESTING_VALUES));
      case 1:
        return pickNode(donor, rng) ?? value;
      case 2:
        if (typeof value === 'string') return mutateString(value, rng, this.#tokens);
        return String(value);
      case 3:
        if (typeof value === 'number')
          return rng.pick([value + 1, value - 1, -value, value * 1000, 0.5 + value]);
        return rng.chance(0.5) ? [value] : { [rng.pick(this.#tokens)]: value };
      case 4:
        if (isContainer(value) && !Array.isArray(value)) {
          (value as Record<string, unknown>)[rng.pick(this.#tokens)] = structuredClone(
            rng.pick(INTERESTING_VALUES),
          );
        } else if (Array.isArray(value)) value.push(value.length > 0 ? value[rng.below(value.length)] : null);
        return value;
      default:
        return rng.pick(this.#tokens);
    }
  }
}

function splice(b: Buffer, start: number, end: number, insert: Uint8Array): Buffer {
  return Buffer.concat([b.subarray(0, start), insert, b.subarray(Math.min(end, b.length))]);
}

function parseOrNull(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isContainer(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}

/** Some node of `value`, for moving parts between inputs. */
function pickNode(value: unknown, rng: Rng): unknown {
  let node = value;
  for (let depth = 0; isContainer(node) && depth < 8 && rng.chance(0.6); depth++) {
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    node = (node as Record<string, unknown>)[rng.pick(keys)];
  }
  return structuredClone(node);
}

function mutateString(s: string, rng: Rng, tokens: readonly string[]): string {
  const at = rng.below(s.length + 1);
  switch (rng.below(4)) {
    case 0:
      return s.slice(0, at) + rng.pick(tokens) + s.slice(at);
    case 1:
      return s.slice(0, at) + s.slice(at + 1 + rng.below(4));
    case 2:
      return s + s;
    default:
      return s.slice(0, at) + String.fromCharCode(rng.below(0x10000)) + s.slice(at);
  }
}
