/** Word error counting shared by the speech benchmarks. */

export interface WordErrors {
  sub: number;
  del: number;
  ins: number;
}

/** Substitutions, deletions and insertions of the minimum word-level alignment (Levenshtein). */
export function alignErrors(ref: readonly string[], hyp: readonly string[]): WordErrors {
  type Cell = { cost: number } & WordErrors;
  let prev: Cell[] = Array.from({ length: hyp.length + 1 }, (_, j) => ({ cost: j, sub: 0, del: 0, ins: j }));
  for (let i = 1; i <= ref.length; i++) {
    const cur: Cell[] = [{ cost: i, sub: 0, del: i, ins: 0 }];
    for (let j = 1; j <= hyp.length; j++) {
      const diag = prev[j - 1]!;
      const same = ref[i - 1] === hyp[j - 1];
      const options: Cell[] = [
        { ...diag, cost: diag.cost + (same ? 0 : 1), sub: diag.sub + (same ? 0 : 1) },
        { ...prev[j]!, cost: prev[j]!.cost + 1, del: prev[j]!.del + 1 },
        { ...cur[j - 1]!, cost: cur[j - 1]!.cost + 1, ins: cur[j - 1]!.ins + 1 },
      ];
      cur[j] = options.reduce((a, b) => (b.cost < a.cost ? b : a));
    }
    prev = cur;
  }
  const { sub, del, ins } = prev[hyp.length]!;
  return { sub, del, ins };
}

/** Word errors of `hyp` against `ref`, both as words separated by spaces. */
export function wordErrors(ref: string, hyp: string): number {
  const split = (text: string): string[] => text.split(' ').filter((w) => w !== '');
  const { sub, del, ins } = alignErrors(split(ref), split(hyp));
  return sub + del + ins;
}
