/**
 * "Did you mean": the known name closest to a mistyped one, for every message that names something unknown
 * (a state, an intent, a slot in a template, a flow on the command line).
 */
import { editDistance } from '../nlu/entities/custom.ts';

const LISTED_NAMES = 10;
// Suggestions compare the name with every known one; bounded so a huge broken flow stays fast to check.
const SUGGEST_MAX_NAMES = 1000;
const SUGGEST_MAX_TIMES = 50;

/**
 * The known name within two edits of `unknown` (fewer for short names), the closest first; case is ignored,
 * so `readyby` finds `readyBy`. Null when none is that close.
 */
export function closestName(unknown: string, names: Iterable<string>): string | null {
  const wanted = unknown.toLowerCase();
  let best: string | null = null;
  let bestDistance = Math.min(2, Math.floor(unknown.length / 2));
  for (const name of names) {
    const d = name === unknown ? 0 : Math.max(1, editDistance(wanted, name.toLowerCase(), bestDistance));
    if (d <= bestDistance && (best === null || d < bestDistance)) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

/** `did you mean "x"? ` for `unknown` among `names`, or an empty string. */
export function didYouMean(unknown: string, names: Iterable<string>): string {
  const best = closestName(unknown, names);
  return best === null ? '' : `did you mean "${best}"? `;
}

/** Hint for an unknown name: the closest known name, and a short list of the known ones. */
export function nameHints(names: Set<string>, noun: string): (unknown: string) => string {
  const list = [...names];
  const shown = list.slice(0, LISTED_NAMES).join(', ');
  const known = list.length > LISTED_NAMES ? `${shown}, ... (${list.length} ${noun})` : shown;
  let suggested = 0;
  return (unknown) => {
    if (list.length > SUGGEST_MAX_NAMES || suggested >= SUGGEST_MAX_TIMES) return `known ${noun}: ${known}`;
    suggested += 1;
    return `${didYouMean(unknown, list)}known ${noun}: ${known}`;
  };
}
