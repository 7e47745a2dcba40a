/**
 * The review file `switchboard learn` writes: one caller turn per line (JSONL), grouped with turns phrased
 * alike, the groups most worth a person's time first. A person fills in each line's `label` (an intent, "oos" or
 * "skip"), and `switchboard train FLOW --with FILE` learns from it.
 */
import { normalizeUtterance } from '../nlu/normalize.ts';
import { REPEATED, similarity, type CallerTurn, type TurnSignal } from './turns.ts';

export interface ReviewLine {
  /** Turns phrased alike share a group; group 1 is the most worth labeling. */
  group: number;
  heard: string;
  state: string;
  intent: string | null;
  confidence: number;
  signals: TurnSignal[];
  /** How many turns (in this file) were heard as exactly these words. */
  repeats: number;
  callId: string;
  at: string;
  /** What a shadow model understood instead, when one ran and disagreed. */
  shadow?: { version: string; intent: string | null; confidence: number };
  /** For the reviewer: an intent of the flow, "oos" (no intent fits) or "skip"; null until labeled. */
  label: string | null;
}

/** Below this confidence an understood turn is worth a look. */
export const LOW_CONFIDENCE = 0.7;

const WEIGHTS: Record<TurnSignal, number> = {
  'no-match': 4,
  reprompt: 1,
  repeated: 2,
  transferred: 2,
  'hung up': 2,
};

/** How much a turn is worth labeling: its trouble, and doubt in what was understood. */
export function priority(turn: CallerTurn): number {
  let score = turn.signals.reduce((sum, s) => sum + WEIGHTS[s], 0);
  if (turn.intent !== null && turn.confidence < LOW_CONFIDENCE) score += 2;
  // Two models that disagree on the words: one of them is wrong.
  if (turn.shadow !== undefined) score += 2;
  return score;
}

/**
 * Review lines for `turns`: grouped (each turn joins the first group whose first turn is at least REPEATED alike,
 * taking turns in order of priority), groups ordered by their summed priority then size, and turns within a
 * group by priority then confidence, lowest first.
 */
export function reviewLines(turns: readonly CallerTurn[]): ReviewLine[] {
  const counts = new Map<string, number>();
  for (const t of turns)
    counts.set(normalizeUtterance(t.heard), (counts.get(normalizeUtterance(t.heard)) ?? 0) + 1);
  const scored = turns
    .filter((t) => normalizeUtterance(t.heard) !== '')
    .map((t) => ({ turn: t, score: priority(t) }))
    .sort((a, b) => b.score - a.score || a.turn.confidence - b.turn.confidence || a.turn.at - b.turn.at);
  const groups: { first: string; members: typeof scored; score: number }[] = [];
  for (const item of scored) {
    const group = groups.find((g) => similarity(g.first, item.turn.heard) >= REPEATED);
    if (group) {
      group.members.push(item);
      group.score += item.score;
    } else groups.push({ first: item.turn.heard, members: [item], score: item.score });
  }
  groups.sort((a, b) => b.score - a.score || b.members.length - a.members.length);
  return groups.flatMap((g, i) =>
    g.members.map(({ turn }) => ({
      group: i + 1,
      heard: turn.heard,
      state: turn.state,
      intent: turn.intent,
      confidence: round(turn.confidence),
      signals: turn.signals,
      repeats: counts.get(normalizeUtterance(turn.heard)) ?? 1,
      callId: turn.callId,
      at: new Date(turn.at).toISOString(),
      ...(turn.shadow ? { shadow: { ...turn.shadow, confidence: round(turn.shadow.confidence) } } : {}),
      label: null,
    })),
  );
}

const round = (n: number): number => Math.round(n * 1000) / 1000;
