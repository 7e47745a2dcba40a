/**
 * Reading a labeled review file back: each line's label checked against the flow's intents (problems reported
 * by line number, never by the words heard), and the labeled turns added to the flow's training data.
 */
import type { FlowFile } from '../flow/index.ts';
import { flowTrainingData } from '../flow/training-data.ts';
import { normalizeUtterance } from '../nlu/normalize.ts';
import type { TrainingData } from '../nlu/trainer.ts';

export const OUT_OF_SCOPE_LABEL = 'oos';
export const SKIP_LABEL = 'skip';

export interface LineProblem {
  /** 1-based line number in the file. */
  line: number;
  message: string;
}

export interface ReviewLabels {
  /** Labeled turns: the words heard (in `state`, when the line says), and an intent or OUT_OF_SCOPE_LABEL. */
  labeled: { line: number; heard: string; label: string; state?: string }[];
  skipped: number;
  unlabeled: number;
  problems: LineProblem[];
}

/** Parses a review file; `intents` are the names a label may take besides "oos" and "skip". */
export function parseReview(text: string, intents: readonly string[]): ReviewLabels {
  const known = new Set(intents);
  const result: ReviewLabels = { labeled: [], skipped: 0, unlabeled: 0, problems: [] };
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      result.problems.push({ line, message: 'not a JSON object' });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      result.problems.push({ line, message: 'not a JSON object' });
      return;
    }
    const { heard, label, state } = value as { heard?: unknown; label?: unknown; state?: unknown };
    if (typeof heard !== 'string' || normalizeUtterance(heard) === '') {
      result.problems.push({ line, message: '"heard" must be the words the caller said' });
      return;
    }
    if (label === null || label === undefined || label === '') result.unlabeled++;
    else if (typeof label !== 'string')
      result.problems.push({ line, message: '"label" must be a string: an intent, "oos" or "skip"' });
    else if (label === SKIP_LABEL) result.skipped++;
    else if (label === OUT_OF_SCOPE_LABEL || known.has(label))
      result.labeled.push({ line, heard, label, ...(typeof state === 'string' ? { state } : {}) });
    else
      result.problems.push({
        line,
        message: `unknown label "${label}": use an intent of the flow (${[...known].join(', ')}), "oos" or "skip"`,
      });
  });
  return result;
}

/**
 * The flow's training data with the labeled turns added. A turn labeled against one of the flow's own examples
 * (or against another line's label for the same words) is a problem of its line: the flow file and the earlier
 * line win, and nothing is trained until the file agrees.
 */
export function withLabels(
  flow: FlowFile,
  labels: ReviewLabels['labeled'],
): { data: TrainingData; added: number; problems: LineProblem[] } {
  const base = flowTrainingData(flow);
  const intents: Record<string, string[]> = Object.fromEntries(
    Object.entries(base.intents).map(([name, examples]) => [name, [...examples]]),
  );
  const outOfScope = [...(base.outOfScope ?? [])];
  const owner = new Map<string, string>();
  for (const [name, examples] of Object.entries(intents))
    for (const example of examples) owner.set(normalizeUtterance(example), name);
  const fromFile = new Map<string, { label: string; line: number }>();
  for (const text of outOfScope) owner.set(normalizeUtterance(text), OUT_OF_SCOPE_LABEL);
  const problems: LineProblem[] = [];
  let added = 0;
  for (const { line, heard, label } of labels) {
    const key = normalizeUtterance(heard);
    const earlier = fromFile.get(key);
    if (earlier !== undefined) {
      if (earlier.label !== label)
        problems.push({
          line,
          message: `labeled "${label}", but line ${earlier.line} labels the same words "${earlier.label}"`,
        });
      continue;
    }
    const flowOwner = owner.get(key);
    if (flowOwner !== undefined) {
      if (flowOwner !== label)
        problems.push({
          line,
          message:
            flowOwner === OUT_OF_SCOPE_LABEL
              ? `labeled "${label}", but the words are one of the generic out-of-scope sentences`
              : `labeled "${label}", but the words are an example of intent "${flowOwner}" in the flow`,
        });
      continue;
    }
    fromFile.set(key, { label, line });
    if (label === OUT_OF_SCOPE_LABEL) outOfScope.push(heard.trim());
    else intents[label]!.push(heard.trim());
    added++;
  }
  return { data: { intents, outOfScope }, added, problems };
}
