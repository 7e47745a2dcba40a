/**
 * What a fuzz target is, and the contract each one checks. A target feeds one input (bytes) to the code under
 * test; the code must return, or throw a SwitchboardError with one of the codes the target expects. Anything
 * else thrown (a TypeError, a RangeError, a plain Error), a broken round trip, or an input that takes too long
 * makes `run` throw, and the runner records it as a failure with its input.
 */
import type fc from 'fast-check';
import {
  ErrorCodes,
  SwitchboardError,
  errorFamily,
  type ErrorCode,
  type ErrorFamily,
} from '../../src/errors.ts';

/** How the mutator may read an input, beyond bytes: JSON, one JSON value per line, or text. */
export type InputFormat = 'bytes' | 'text' | 'json' | 'jsonl';

export interface FuzzTarget {
  readonly name: string;
  readonly format: InputFormat;
  /** Inputs shaped like the real thing (valid or nearly), as the bytes `run` takes. */
  readonly arbitrary: fc.Arbitrary<Buffer>;
  /** Tokens the mutator splices in: keys, event names, delimiters. */
  readonly dictionary: readonly string[];
  /** Mutants are cut to this many bytes. */
  readonly maxBytes: number;
  /** One input may take this long (ms) before it counts as a hang. */
  readonly slowMs?: number;
  /**
   * Makes a mutant acceptable to checks that only guard against accidents (a checksum, a signature), so the
   * mutation reaches the code behind them. Applied to about half of the mutants.
   */
  repair?(input: Buffer): Buffer;
  /** Once before the first input: start servers, compile flows. */
  setup?(): Promise<void>;
  /** Once after the last input. */
  close?(): Promise<void>;
  /** Feeds one input to the code under test; throws when the code broke its contract. */
  run(input: Buffer): void | Promise<void>;
}

/** The contract broken: thrown by a target, never by the code under test. */
export class ContractBroken extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ContractBroken';
  }
}

/** Every code of `families`: what a parser of that kind of input may throw. */
export function codesOf(...families: ErrorFamily[]): ReadonlySet<ErrorCode> {
  return new Set((Object.keys(ErrorCodes) as ErrorCode[]).filter((c) => families.includes(errorFamily(c))));
}

/** Rethrows `err` unless it is a SwitchboardError with one of `codes`: an untyped error is the finding. */
export function expectTyped(err: unknown, codes: ReadonlySet<ErrorCode>): void {
  if (err instanceof SwitchboardError && codes.has(err.code)) return;
  throw err;
}

/** Runs `fn`: its value, or undefined when it threw a SwitchboardError with one of `codes`. */
export function typed<T>(codes: ReadonlySet<ErrorCode>, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    expectTyped(err, codes);
    return undefined;
  }
}

/** The async form of {@link typed}. */
export async function typedAsync<T>(
  codes: ReadonlySet<ErrorCode>,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    expectTyped(err, codes);
    return undefined;
  }
}

/** Throws ContractBroken with `message` unless `ok`. */
export function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new ContractBroken(message);
}
