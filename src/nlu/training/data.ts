/**
 * Training data checks: drops blank and repeated examples, rejects contradictions, and hashes the cleaned data
 * with the resolved options so a model can be matched to what it was trained from.
 */
import { createHash } from 'node:crypto';

import { normalizeUtterance } from '../normalize.ts';
import { fail } from './options.ts';
import type { ResolvedOptions } from './options.ts';

export const MAX_LABELS = 1000;
export const MAX_EXAMPLES = 200_000;

export interface CleanData {
  labels: string[];
  /** Per label, its examples: trimmed, blanks dropped, repeats (after normalization) dropped. */
  examples: string[][];
  outOfScope: string[];
}

function isBlank(text: string): boolean {
  return normalizeUtterance(text) === '';
}

/** Checks the data and drops blank and repeated examples. Messages name intents, never example text. */
export function cleanData(data: unknown): CleanData {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) fail('data must be an object');
  const { intents, outOfScope } = data as { intents?: unknown; outOfScope?: unknown };
  if (typeof intents !== 'object' || intents === null || Array.isArray(intents))
    fail('intents must be an object of intent name to examples', { field: 'intents' });
  const labels = Object.keys(intents).sort();
  if (labels.length < 2) fail('at least 2 intents are needed', { field: 'intents', count: labels.length });
  if (labels.length > MAX_LABELS)
    fail(`at most ${MAX_LABELS} intents are supported`, { field: 'intents', count: labels.length });

  // Normalized text -> the intent that claimed it, to catch one example under two intents.
  const owner = new Map<string, string>();
  let total = 0;
  const examples = labels.map((label) => {
    if (label.trim() === '') fail('intent names must not be blank', { field: 'intents' });
    const list = (intents as Record<string, unknown>)[label];
    if (!Array.isArray(list)) fail(`intent "${label}" must have an array of examples`, { intent: label });
    const kept: string[] = [];
    for (const [index, text] of (list as unknown[]).entries()) {
      if (typeof text !== 'string')
        fail(`intent "${label}" has an example that is not a string`, { intent: label, index });
      if (isBlank(text)) continue;
      const key = normalizeUtterance(text);
      const previous = owner.get(key);
      if (previous === label) continue;
      if (previous !== undefined)
        fail(`the same example is listed under intents "${previous}" and "${label}"`, {
          intents: [previous, label],
          index,
        });
      owner.set(key, label);
      kept.push(text.trim());
    }
    if (kept.length === 0) fail(`intent "${label}" has no non-blank examples`, { intent: label });
    total += kept.length;
    return kept;
  });

  const oos: string[] = [];
  if (outOfScope !== undefined) {
    if (!Array.isArray(outOfScope)) fail('outOfScope must be an array of strings', { field: 'outOfScope' });
    const seen = new Set<string>();
    for (const [index, text] of (outOfScope as unknown[]).entries()) {
      if (typeof text !== 'string')
        fail('outOfScope has an example that is not a string', { field: 'outOfScope', index });
      if (isBlank(text)) continue;
      const key = normalizeUtterance(text);
      const claimed = owner.get(key);
      if (claimed !== undefined)
        fail(`the same example is listed under intent "${claimed}" and outOfScope`, {
          intents: [claimed, 'outOfScope'],
          index,
        });
      if (seen.has(key)) continue;
      seen.add(key);
      oos.push(text.trim());
    }
  }
  total += oos.length;
  if (total > MAX_EXAMPLES) fail(`at most ${MAX_EXAMPLES} examples are supported`, { count: total });
  return { labels, examples, outOfScope: oos };
}

/**
 * Checks an explicit validation set against the training labels: per training label its examples (trimmed,
 * blanks and repeats dropped; possibly none), and its out-of-scope examples. An intent the training data does
 * not have, an example under two intents, or no in-scope example at all is NLU_TRAINING_INVALID. Overlap with
 * the training data is allowed: it is the caller's split.
 */
export function cleanValidation(validation: unknown, labels: string[]): Omit<CleanData, 'labels'> {
  if (typeof validation !== 'object' || validation === null || Array.isArray(validation))
    fail('validation must be an object', { field: 'validation' });
  const { intents, outOfScope } = validation as { intents?: unknown; outOfScope?: unknown };
  if (typeof intents !== 'object' || intents === null || Array.isArray(intents))
    fail('validation intents must be an object of intent name to examples', { field: 'validation' });
  const index = new Map(labels.map((label, k) => [label, k]));
  const examples: string[][] = labels.map(() => []);
  const owner = new Map<string, string>();
  let total = 0;
  for (const label of Object.keys(intents).sort()) {
    const k = index.get(label);
    if (k === undefined)
      fail(`validation intent "${label}" is not a training intent`, { field: 'validation', intent: label });
    const list = (intents as Record<string, unknown>)[label];
    if (!Array.isArray(list))
      fail(`validation intent "${label}" must have an array of examples`, {
        field: 'validation',
        intent: label,
      });
    for (const [i, text] of (list as unknown[]).entries()) {
      if (typeof text !== 'string')
        fail(`validation intent "${label}" has an example that is not a string`, {
          field: 'validation',
          intent: label,
          index: i,
        });
      if (isBlank(text)) continue;
      const key = normalizeUtterance(text);
      const previous = owner.get(key);
      if (previous === label) continue;
      if (previous !== undefined)
        fail(`the same validation example is listed under intents "${previous}" and "${label}"`, {
          field: 'validation',
          intents: [previous, label],
          index: i,
        });
      owner.set(key, label);
      examples[k]!.push(text.trim());
      total++;
    }
  }
  if (total === 0) fail('validation needs at least one in-scope example', { field: 'validation' });
  const oos: string[] = [];
  if (outOfScope !== undefined) {
    if (!Array.isArray(outOfScope))
      fail('validation outOfScope must be an array of strings', { field: 'validation' });
    const seen = new Set<string>();
    for (const [i, text] of (outOfScope as unknown[]).entries()) {
      if (typeof text !== 'string')
        fail('validation outOfScope has an example that is not a string', { field: 'validation', index: i });
      if (isBlank(text)) continue;
      const key = normalizeUtterance(text);
      const claimed = owner.get(key);
      if (claimed !== undefined)
        fail(`the same validation example is listed under intent "${claimed}" and outOfScope`, {
          field: 'validation',
          intents: [claimed, 'outOfScope'],
          index: i,
        });
      if (seen.has(key)) continue;
      seen.add(key);
      oos.push(text.trim());
    }
  }
  if (total + oos.length > MAX_EXAMPLES)
    fail(`at most ${MAX_EXAMPLES} validation examples are supported`, { field: 'validation' });
  return { examples, outOfScope: oos };
}

/** JSON with object keys sorted, so equal data hashes equally whatever order its keys were written in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** sha256 hex of canonical JSON of the cleaned training data, the explicit validation set if any, and the options. */
export function hashTrainingData(
  clean: CleanData,
  explicit: Omit<CleanData, 'labels'> | undefined,
  opts: ResolvedOptions,
): string {
  return createHash('sha256')
    .update(
      canonicalJson({
        intents: Object.fromEntries(clean.labels.map((label, k) => [label, clean.examples[k]])),
        outOfScope: clean.outOfScope,
        options: opts,
        // Only with an explicit validation set (canonicalJson leaves undefined out): it shapes the model too.
        validation: explicit && {
          intents: Object.fromEntries(clean.labels.map((label, k) => [label, explicit.examples[k]])),
          outOfScope: explicit.outOfScope,
        },
      }),
    )
    .digest('hex');
}
