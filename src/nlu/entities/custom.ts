import { words } from '../normalize.ts';

/** A flow's own entity: each canonical value with its synonyms, as `{ "large": ["big", "family size"] }`. */
export interface EntityValues {
  [canonical: string]: readonly string[];
}

/**
 * The canonical value whose name or a synonym occurs in the utterance as whole words, after normalization.
 * The longest match (in words) wins, so "extra large" beats "large"; when two different values tie for the
 * longest match ("small or large") the answer is null rather than a guess.
 */
export function extractCustom(values: EntityValues, text: string): string | null {
  const tokens = words(text);
  let best: string | null = null;
  let bestLength = 0;
  let tied = false;
  for (const [canonical, synonyms] of Object.entries(values)) {
    for (const phrase of [canonical, ...synonyms]) {
      const target = words(phrase);
      if (target.length === 0 || target.length < bestLength || !occurs(tokens, target)) continue;
      if (target.length > bestLength) {
        best = canonical;
        bestLength = target.length;
        tied = false;
      } else if (canonical !== best) {
        tied = true;
      }
    }
  }
  return tied ? null : best;
}

function occurs(tokens: readonly string[], target: readonly string[]): boolean {
  for (let i = 0; i + target.length <= tokens.length; i++) {
    if (target.every((t, k) => tokens[i + k] === t)) return true;
  }
  return false;
}
