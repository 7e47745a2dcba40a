/**
 * Comparing a candidate model with the live one on recorded caller turns: each turn understood by both (through
 * the same `Judge` a call uses: exact examples, the model, the flow's routing), the turns whose understanding
 * changes, whether the call would have gone elsewhere, and, on a labeled review file, which model is right.
 */
import { normalizeUtterance } from '../nlu/normalize.ts';
import { OUT_OF_SCOPE_LABEL } from './review-file.ts';

/** What a model makes of `heard` said in `state`: its intent and confidence, and where the call would go. */
export type Judge = (heard: string, state: string) => Promise<Judgement>;

export interface Judgement {
  intent: string | null;
  confidence: number;
  /** The route the flow takes on it, in words ("goto rx", "ask again", "collect pickup", ...). */
  path: string;
}

export interface TurnToJudge {
  heard: string;
  state: string;
  /** An intent, "oos", or undefined when unlabeled. */
  label?: string;
}

export interface ChangedTurn {
  heard: string;
  state: string;
  live: Judgement;
  candidate: Judgement;
  /** The flow would have gone somewhere else. */
  pathChanged: boolean;
  label?: string;
  /** With a label: right before and wrong now. */
  regression: boolean;
  /** With a label: wrong before and right now. */
  fix: boolean;
}

export interface Evaluation {
  turns: number;
  changed: ChangedTurn[];
  /** Turns the live model left without an intent that the candidate understands. */
  noMatchesUnderstood: number;
  /** Turns the live model understood that the candidate leaves without an intent. */
  newNoMatches: number;
  /** On labeled turns: how many each model gets right, out of `labeled`. */
  labeled: number;
  liveRight: number;
  candidateRight: number;
  regressions: number;
  fixes: number;
  ms: number;
}

const isRight = (j: Judgement, label: string): boolean =>
  label === OUT_OF_SCOPE_LABEL ? j.intent === null : j.intent === label;

/** Judges every turn with both models, one turn at a time. Identical words in the same state are judged once. */
export async function evaluate(
  turns: readonly TurnToJudge[],
  live: Judge,
  candidate: Judge,
): Promise<Evaluation> {
  const started = performance.now();
  const seen = new Map<string, [Judgement, Judgement]>();
  const result: Evaluation = {
    turns: turns.length,
    changed: [],
    noMatchesUnderstood: 0,
    newNoMatches: 0,
    labeled: 0,
    liveRight: 0,
    candidateRight: 0,
    regressions: 0,
    fixes: 0,
    ms: 0,
  };
  for (const turn of turns) {
    const key = `${turn.state}\n${normalizeUtterance(turn.heard)}`;
    let pair = seen.get(key);
    if (pair === undefined) {
      pair = [await live(turn.heard, turn.state), await candidate(turn.heard, turn.state)];
      seen.set(key, pair);
    }
    const [old, now] = pair;
    if (old.intent === null && now.intent !== null) result.noMatchesUnderstood++;
    if (old.intent !== null && now.intent === null) result.newNoMatches++;
    let regression = false;
    let fix = false;
    if (turn.label !== undefined) {
      result.labeled++;
      const before = isRight(old, turn.label);
      const after = isRight(now, turn.label);
      if (before) result.liveRight++;
      if (after) result.candidateRight++;
      regression = before && !after;
      fix = !before && after;
      if (regression) result.regressions++;
      if (fix) result.fixes++;
    }
    if (old.intent !== now.intent || old.path !== now.path)
      result.changed.push({
        heard: turn.heard,
        state: turn.state,
        live: old,
        candidate: now,
        pathChanged: old.path !== now.path,
        ...(turn.label === undefined ? {} : { label: turn.label }),
        regression,
        fix,
      });
  }
  result.ms = performance.now() - started;
  return result;
}
