/**
 * The fuzz loop shared by `npm run fuzz` and the short run in the unit tests. It replays the target's committed
 * corpus, then until its time is up runs inputs of two kinds: structured ones drawn from the target's
 * fast-check arbitrary, and mutants of the corpus (mutate.ts). With coverage on (coverage.ts), inputs run in
 * small batches and a batch that reached new blocks is run again one input at a time; each input that reached
 * new blocks joins the corpus, so later mutants start from it.
 *
 * A failure is anything `run` throws (see target.ts), an unhandled rejection or uncaught exception while an
 * input runs (attributed to it), or an input slower than the target's limit. Failures are grouped by where
 * they come from, keeping the smallest input of each.
 */
import fc from 'fast-check';
import { performance } from 'node:perf_hooks';
import { loadCorpus, saveInput } from './corpus.ts';
import { Coverage } from './coverage.ts';
import { Mutator, Rng } from './mutate.ts';
import type { FuzzTarget } from './target.ts';

export interface RunOptions {
  /** How long to fuzz after the corpus is replayed. */
  seconds: number;
  seed?: number;
  /** Coverage guidance (on unless false). */
  coverage?: boolean;
  /** Where inputs that reached new blocks are written; nowhere when absent. */
  corpusOut?: string;
  /** Where failing inputs are written; nowhere when absent. */
  failuresOut?: string;
  /** Called with each input just before it runs (a watchdog keeps it, to name the input of a hang). */
  onInput?(input: Buffer): void;
}

export interface Failure {
  /** Where it comes from: the error's kind, message and first frame in src/. */
  signature: string;
  error: string;
  input: Buffer;
}

export interface RunReport {
  target: string;
  executions: number;
  /** Seconds spent running inputs, the corpus replay included. */
  seconds: number;
  seeds: number;
  /** Inputs that reached new blocks and joined the corpus. */
  added: number;
  /** Blocks of src/ reached (0 without coverage). */
  features: number;
  failures: Failure[];
}

/**
 * Inputs run between two coverage reads, from MIN_BATCH to MAX_BATCH: a read costs about half a millisecond, so
 * the batch doubles while batches find nothing new and halves when one does, since that one is run again input
 * by input to find which input it was.
 */
const MIN_BATCH = 8;
const MAX_BATCH = 512;
/** A batch is read early once it has run this long, so slow targets are still guided input by input. */
const BATCH_MS = 20;
const DEFAULT_SLOW_MS = 2000;

export async function runTarget(target: FuzzTarget, options: RunOptions): Promise<RunReport> {
  const rng = new Rng(options.seed ?? Date.now());
  const mutator = new Mutator(rng, target.format, target.dictionary, target.maxBytes);
  const coverage = options.coverage === false ? null : new Coverage();
  const failures = new Map<string, Failure>();
  const corpus: Buffer[] = [];
  const slowMs = target.slowMs ?? DEFAULT_SLOW_MS;
  let executions = 0;
  let added = 0;
  let seedCount = 0;
  let current: Buffer = Buffer.alloc(0);

  const fail = (err: unknown, input: Buffer): void => {
    const signature = signatureOf(err);
    const known = failures.get(signature);
    if (known && known.input.length <= input.length) return;
    failures.set(signature, { signature, error: describe(err), input });
    if (options.failuresOut) saveInput(options.failuresOut, input, `${target.name}-crash-`);
  };
  const stray = (err: unknown): void => fail(err, current);
  process.on('unhandledRejection', stray);
  process.on('uncaughtException', stray);

  const exec = async (input: Buffer): Promise<void> => {
    current = input;
    options.onInput?.(input);
    executions += 1;
    const started = performance.now();
    try {
      const pending = target.run(input);
      if (pending instanceof Promise) await withTimeout(pending, slowMs);
    } catch (err) {
      fail(err, input);
    }
    const took = performance.now() - started;
    if (took > slowMs)
      fail(new Error(`slow input: ${Math.round(took)} ms, the limit is ${slowMs} ms`), input);
  };

  /** Runs `input` alone; whether it reached new blocks. */
  const runAlone = async (input: Buffer): Promise<boolean> => {
    await exec(input);
    return coverage !== null && coverage.novel(coverage.take(), true);
  };

  await target.setup?.();
  coverage?.start();
  const started = performance.now();
  try {
    const seeds = loadCorpus(target.name);
    for (const seed of seeds) {
      await runAlone(seed.input);
      corpus.push(seed.input);
    }
    seedCount = seeds.length;
    const deadline = performance.now() + options.seconds * 1000;
    let structured: Buffer[] = [];
    let batch: Buffer[] = [];
    let batchSize = MIN_BATCH;
    let batchStart = performance.now();
    while (performance.now() < deadline) {
      let input: Buffer;
      if (corpus.length === 0 || rng.chance(0.3)) {
        if (structured.length === 0) {
          structured = fc.sample(target.arbitrary, { numRuns: 32, seed: rng.below(2 ** 31) });
        }
        input = structured.pop()!;
      } else {
        input = mutator.mutate(rng.pick(corpus), rng.pick(corpus));
        if (target.repair && rng.chance(0.5)) input = target.repair(input);
      }
      await exec(input);
      if (!coverage) continue;
      batch.push(input);
      if (batch.length < batchSize && performance.now() - batchStart < BATCH_MS) continue;
      const novel = coverage.novel(coverage.take(), false);
      batchSize = novel ? Math.max(MIN_BATCH, batchSize / 2) : Math.min(MAX_BATCH, batchSize * 2);
      if (novel) {
        for (const again of batch) {
          if (await runAlone(again)) {
            corpus.push(again);
            added += 1;
            if (options.corpusOut) saveInput(options.corpusOut, again);
          }
        }
      }
      batch = [];
      batchStart = performance.now();
    }
  } finally {
    coverage?.stop();
    process.off('unhandledRejection', stray);
    process.off('uncaughtException', stray);
    await target.close?.();
  }
  return {
    target: target.name,
    executions,
    seconds: (performance.now() - started) / 1000,
    seeds: seedCount,
    added,
    features: coverage?.size ?? 0,
    failures: [...failures.values()],
  };
}

async function withTimeout(pending: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hung: no answer within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([pending, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Where a failure comes from: its kind, its message without numbers, and its first frame in src/. */
export function signatureOf(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const frame = (e.stack ?? '').split('\n').find((line) => line.includes('/src/')) ?? '';
  const where = /\/(src\/[^:)]+:\d+)/.exec(frame)?.[1] ?? 'outside src/';
  const message = e.message.split('\n')[0]!.replace(/\d+/g, 'N').slice(0, 100);
  return `${e.name}: ${message} @ ${where}`;
}

/** The error as a report shows it: its stack (causes included) or its text. */
export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause === undefined ? '' : `\ncaused by: ${describe(err.cause)}`;
  return `${err.stack ?? `${err.name}: ${err.message}`}${cause}`;
}
