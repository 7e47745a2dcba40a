/**
 * Which decoder search serves a ListenContext. The engine names each search by its content, so every stream
 * with the same expectations shares one search per decoder, built once; the decoder process builds it from the
 * spec, since only the decoder knows which words its dictionary has.
 */
import { createHash } from 'node:crypto';
import type { DigitCount, ListenContext } from './engine.ts';
import { buildGrammar } from './grammar.ts';
import { buildLanguageModel } from './language-model.ts';
import { numberWords, phraseWords } from './words.ts';

export interface SearchSpec {
  /** Content address: equal specs have equal keys. Also the search's name in the decoder. */
  readonly key: string;
  /** `grammar`: one of `sentences`; `lm`: a bigram model of them; `generic`: the model's own en-us LM. */
  readonly kind: 'grammar' | 'lm' | 'generic';
  /** Normalized, deduplicated and sorted, as dictionary words joined by spaces. */
  readonly sentences: readonly string[];
  readonly numbers: boolean | 'digits';
  /** The digit string's length, for a grammar of digits. */
  readonly digitCount: DigitCount | null;
}

/** What the decoder loads: a JSGF grammar, an ARPA model, or the generic model file. */
export type SearchSource =
  | { type: 'jsgf'; text: string; words: string[] }
  | { type: 'arpa'; text: string; words: string[] }
  | { type: 'generic' };

/**
 * The search for `context`: a grammar of its phrases when closed, a model of its domain when open. A closed
 * context with no phrase falls back to the domain model; an open one with no domain to the generic model.
 */
export function searchSpec(context: ListenContext): SearchSpec {
  const phrases = sentences(context.phrases);
  if (context.kind === 'closed' && (phrases.length > 0 || context.numbers)) {
    const count = context.numbers === 'digits' ? (context.digitCount ?? null) : null;
    return spec('grammar', phrases, context.numbers, count);
  }
  const domain = sentences([...context.domain, ...context.phrases]);
  if (domain.length > 0) return spec('lm', domain, context.numbers, null);
  return spec('generic', [], false, null);
}

/**
 * What to load for `spec`, given the decoder's dictionary; a grammar whose words are all unknown degrades to
 * the generic model rather than failing the stream.
 */
export function searchSource(spec: SearchSpec, known: (word: string) => boolean): SearchSource {
  const words = spec.sentences.map((s) => s.split(' '));
  if (spec.kind === 'grammar') {
    const grammar = buildGrammar(
      { phrases: words, numbers: spec.numbers, ...(spec.digitCount ? { digitCount: spec.digitCount } : {}) },
      known,
    );
    if (grammar) return { type: 'jsgf', text: grammar.jsgf, words: grammar.words };
  } else if (spec.kind === 'lm') {
    const kept = words.map((s) => s.filter((w) => known(w)));
    // Number words as sentences of their own and in a run, so spoken digits and amounts stay likely.
    const numbers = numberWords(spec.numbers).filter((w) => known(w));
    if (numbers.length > 0) kept.push(...numbers.map((w) => [w]), numbers);
    const arpa = buildLanguageModel(kept.filter((s) => s.length > 0));
    if (arpa) return { type: 'arpa', text: arpa, words: [...new Set(kept.flat())] };
  }
  return { type: 'generic' };
}

function sentences(texts: readonly string[]): string[] {
  const out = new Set<string>();
  for (const text of texts) {
    const words = phraseWords(text);
    if (words.length > 0) out.add(words.join(' '));
  }
  return [...out].sort();
}

function spec(
  kind: SearchSpec['kind'],
  sentences: string[],
  numbers: boolean | 'digits',
  digitCount: DigitCount | null,
): SearchSpec {
  const count = digitCount && { min: digitCount.min, max: digitCount.max };
  const hash = createHash('sha256')
    .update(JSON.stringify([kind, numbers, sentences, count]))
    .digest('hex');
  return { key: `${kind}-${hash.slice(0, 16)}`, kind, sentences, numbers, digitCount: count };
}
