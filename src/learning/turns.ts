/**
 * A call's caller turns, read from its journal: what was heard, in which state, what the call understood, and
 * what happened next. A turn followed by trouble (a no-match, the question asked again, the caller saying it
 * again, a transfer to a person, a hang-up) is where the model is most likely to have been wrong.
 */
import { HANDOVER_EFFECTS } from '../flow/index.ts';
import type { JournalRecord } from '../journal/records.ts';
import { normalizeUtterance } from '../nlu/normalize.ts';

export type TurnSignal = 'no-match' | 'reprompt' | 'repeated' | 'transferred' | 'hung up';

export interface CallerTurn {
  callId: string;
  /** ms since the epoch. */
  at: number;
  /** The state the caller was answering. */
  state: string;
  heard: string;
  intent: string | null;
  confidence: number;
  /** The state the turn led to. */
  next: string;
  signals: TurnSignal[];
  /** What a shadow model (NLU_SHADOW) understood instead, when it disagreed. */
  shadow?: { version: string; intent: string | null; confidence: number };
}

/** Words in common over words in either: how alike two utterances are, from 0 to 1. */
export function similarity(a: string, b: string): number {
  const x = new Set(normalizeUtterance(a).split(' ').filter(Boolean));
  const y = new Set(normalizeUtterance(b).split(' ').filter(Boolean));
  if (x.size === 0 || y.size === 0) return 0;
  let common = 0;
  for (const word of x) if (y.has(word)) common++;
  return common / (x.size + y.size - common);
}

/** Utterances at least this alike, said in the same state one after the other, are the caller saying it again. */
export const REPEATED = 0.5;
/** A transfer within this many caller turns of a turn counts against it. */
const TRANSFER_WITHIN = 2;

/** The caller turns of one call's journal (records in sequence order), oldest first. */
export function callerTurns(records: readonly JournalRecord[]): CallerTurn[] {
  const turns: (CallerTurn & { seq: number; hadEntities: boolean })[] = [];
  let state = '';
  const transfersAfter: number[] = []; // seq of each transfer effect
  let hungUp = false;
  for (const r of records) {
    if (r.kind === 'state') {
      const turn = turns.find((t) => t.seq === r.in);
      if (turn) turn.next = r.state;
      state = r.state;
    } else if (r.kind === 'eff' && HANDOVER_EFFECTS.has(r.effect.type)) transfersAfter.push(r.seq);
    else if (r.kind === 'end') hungUp = r.reason === 'caller hung up';
    else if (r.kind === 'shadow') {
      // Journaled at the utterance's time, which its `in` record carries too.
      const turn = turns.findLast((t) => t.at === r.turn);
      if (turn) turn.shadow = { version: r.version, intent: r.intent, confidence: r.confidence };
    } else if (r.kind === 'in' && r.event.type === 'utterance') {
      const e = r.event;
      const entities = e['entities'];
      turns.push({
        callId: r.callId,
        seq: r.seq,
        at: r.at,
        state,
        heard: typeof e['text'] === 'string' ? e['text'] : '',
        intent: typeof e['intent'] === 'string' ? e['intent'] : null,
        confidence: typeof e['confidence'] === 'number' ? e['confidence'] : 0,
        next: state,
        signals: [],
        hadEntities: typeof entities === 'object' && entities !== null && Object.keys(entities).length > 0,
      });
    }
  }
  turns.forEach((turn, i) => {
    const stayed = turn.next === turn.state;
    if (turn.intent === null && stayed && !turn.hadEntities) turn.signals.push('no-match');
    else if (stayed) turn.signals.push('reprompt');
    const following = turns[i + 1];
    if (following && following.state === turn.state && similarity(following.heard, turn.heard) >= REPEATED)
      turn.signals.push('repeated');
    const until = turns[i + TRANSFER_WITHIN]?.seq ?? Infinity;
    if (transfersAfter.some((seq) => seq > turn.seq && seq < until)) turn.signals.push('transferred');
    if (hungUp && i === turns.length - 1 && stayed) turn.signals.push('hung up');
  });
  return turns.map(({ seq: _seq, hadEntities: _had, ...turn }) => turn);
}
