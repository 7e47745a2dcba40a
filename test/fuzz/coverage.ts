/**
 * Coverage feedback from V8's own block coverage, read through node:inspector in this process: no native
 * fuzzing engine is needed. After an input (or a batch of them) runs, the blocks of src/ that ran are its
 * features; an input that reaches a block no earlier one did is kept in the corpus and mutated further.
 *
 * V8 reports a block only when its count differs from the range around it, so a block that ran exactly as
 * often as its function is missing from the report. Blocks are therefore remembered once seen (any report
 * names every block of a function that did not run in full), and a block counts as covered when the innermost
 * reported range holding it ran.
 */
import { Session } from 'node:inspector';
import { pathToFileURL } from 'node:url';

interface Range {
  startOffset: number;
  endOffset: number;
  count: number;
}
interface FunctionCoverage {
  ranges: Range[];
}
interface ScriptCoverage {
  scriptId: string;
  url: string;
  functions: FunctionCoverage[];
}

/** The source folder whose blocks count; the fuzz harness and node_modules do not. */
const SRC_URL = pathToFileURL(new URL('../../src/', import.meta.url).pathname).href;

export class Coverage {
  readonly #session = new Session();
  /** Blocks seen per function (`scriptId:start`), as [start, end] pairs. */
  readonly #blocks = new Map<string, [number, number][]>();
  readonly #blockKeys = new Set<string>();
  /** Features of every input kept so far. */
  readonly #seen = new Set<string>();

  start(): void {
    this.#session.connect();
    this.#post('Profiler.enable');
    this.#post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
    // Counters run from here: drop what setup ran.
    this.take();
  }

  stop(): void {
    this.#post('Profiler.stopPreciseCoverage');
    this.#session.disconnect();
  }

  /** Features known so far. */
  get size(): number {
    return this.#seen.size;
  }

  /** The features of what ran since the last take (counters are reset by it). */
  take(): Set<string> {
    const result = this.#post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    const features = new Set<string>();
    for (const script of result.result) {
      if (!script.url.startsWith(SRC_URL)) continue;
      for (const fn of script.functions) this.#features(script.scriptId, fn.ranges, features);
    }
    return features;
  }

  /** Whether `features` holds one never seen; `keep` adds them to what is known. */
  novel(features: ReadonlySet<string>, keep: boolean): boolean {
    let fresh = false;
    for (const f of features) {
      if (this.#seen.has(f)) continue;
      fresh = true;
      if (!keep) return true;
      this.#seen.add(f);
    }
    return fresh;
  }

  #features(scriptId: string, ranges: Range[], out: Set<string>): void {
    const fn = ranges[0];
    if (!fn || fn.count === 0) return;
    const key = `${scriptId}:${fn.startOffset}`;
    out.add(key);
    let blocks = this.#blocks.get(key);
    if (!blocks) this.#blocks.set(key, (blocks = []));
    for (let i = 1; i < ranges.length; i++) {
      const r = ranges[i]!;
      const id = `${key}:${r.startOffset}:${r.endOffset}`;
      if (!this.#blockKeys.has(id)) {
        this.#blockKeys.add(id);
        blocks.push([r.startOffset, r.endOffset]);
      }
    }
    for (const [start, end] of blocks) {
      if (innermostCount(ranges, start, end) > 0) out.add(`${key}:${start}:${end}`);
    }
  }

  #post(method: string, params?: object): unknown {
    // A session in the same thread answers synchronously, before post returns.
    const answer: { err: Error | null; result: unknown } = { err: null, result: undefined };
    this.#session.post(method, params, (err, result) => Object.assign(answer, { err, result }));
    if (answer.err) throw answer.err;
    return answer.result;
  }
}

/** The count of the innermost range holding [start, end]: ranges are nested and sorted by start. */
function innermostCount(ranges: readonly Range[], start: number, end: number): number {
  let count = 0;
  for (const r of ranges) {
    if (r.startOffset > start) break;
    if (r.endOffset >= end) count = r.count;
  }
  return count;
}
