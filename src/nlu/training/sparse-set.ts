/** Featurized examples packed for training: one flat array of hashed features for the whole set. */
import type { Featurizer } from '../featurizer.ts';

/** Examples in compressed sparse row form: example e owns entries offsets[e]..offsets[e+1]. */
export interface SparseSet {
  offsets: Uint32Array;
  indices: Uint32Array;
  values: Float32Array;
  /** Label index, or -1 for out-of-scope. */
  targets: Int32Array;
}

export function toSparse(featurizer: Featurizer, texts: string[], targets: number[]): SparseSet {
  const rows = texts.map((text) => featurizer.sparse(text));
  const offsets = new Uint32Array(rows.length + 1);
  for (let e = 0; e < rows.length; e++) offsets[e + 1] = offsets[e]! + rows[e]!.indices.length;
  const indices = new Uint32Array(offsets[rows.length]!);
  const values = new Float32Array(offsets[rows.length]!);
  rows.forEach((row, e) => {
    indices.set(row.indices, offsets[e]);
    values.set(row.values, offsets[e]);
  });
  return { offsets, indices, values, targets: Int32Array.from(targets) };
}

export function rowOf(set: SparseSet, e: number): { indices: Uint32Array; values: Float32Array } {
  const start = set.offsets[e]!;
  const end = set.offsets[e + 1]!;
  return { indices: set.indices.subarray(start, end), values: set.values.subarray(start, end) };
}
