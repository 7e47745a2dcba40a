/**
 * How a call came out, read from its journal: the flow state it was last in, and what its work (web requests,
 * transfers) came to. The reason a call ended ("flow ended the call") says who ended it, not how the caller's
 * business went; a refill that went through and one whose request failed end the same way, in different states.
 * What is counted is said by the flow actions that do the work (their `tallies`, src/flow/actions/action.ts).
 * One pass over the records and no text built, as the calls list reads it for every call.
 */
import { TALLIES, type Tally } from '../../flow/index.ts';
import type { JournalRecord } from '../../journal/records.ts';

/** How many pieces of one sort of work came to one thing: 2 web requests answered. */
export interface WorkCount {
  readonly thing: string;
  readonly what: string;
  count: number;
}

export interface CallOutcome {
  /** The state of the last `state` record; null before the first. */
  lastState: string | null;
  /** Every sort of work and what became of it, in the order shown, counted (0 when none). */
  work: WorkCount[];
}

/** Where a tallied record counts: the index of its work count, and of the one it takes back, if any. */
interface Counted {
  add: number;
  takeBack: number | null;
}

const COUNTS: readonly { thing: string; what: string }[] = TALLIES.filter(
  (t, i) => TALLIES.findIndex((u) => u.thing === t.thing && u.what === t.what) === i,
).map(({ thing, what }) => ({ thing, what }));

const indexOf = (thing: string, what: string): number =>
  COUNTS.findIndex((c) => c.thing === thing && c.what === what);

function countedBy(kind: 'effect' | 'event'): ReadonlyMap<string, readonly Counted[]> {
  const map = new Map<string, Counted[]>();
  for (const t of TALLIES) {
    const type = typeOf(t, kind);
    if (type === undefined) continue;
    const takeBack = t.takesBack === undefined ? -1 : indexOf(t.thing, t.takesBack);
    const counted = { add: indexOf(t.thing, t.what), takeBack: takeBack < 0 ? null : takeBack };
    map.set(type, [...(map.get(type) ?? []), counted]);
  }
  return map;
}

function typeOf(t: Tally, kind: 'effect' | 'event'): string | undefined {
  if (kind === 'effect') return 'effect' in t.counts ? t.counts.effect : undefined;
  return 'event' in t.counts ? t.counts.event : undefined;
}

const BY_EFFECT = countedBy('effect');
const BY_EVENT = countedBy('event');

/** The outcome of one call's decoded records. */
export function callOutcome(records: readonly JournalRecord[]): CallOutcome {
  const outcome: CallOutcome = { lastState: null, work: COUNTS.map((c) => ({ ...c, count: 0 })) };
  const count = (counted: readonly Counted[] | undefined): void => {
    for (const { add, takeBack } of counted ?? []) {
      outcome.work[add]!.count += 1;
      if (takeBack !== null) outcome.work[takeBack]!.count -= 1;
    }
  };
  for (const r of records) {
    if (r.kind === 'state') outcome.lastState = r.state;
    else if (r.kind === 'eff') count(BY_EFFECT.get(r.effect.type));
    else if (r.kind === 'in') count(BY_EVENT.get(r.event.type));
  }
  return outcome;
}

/** The work in words ("web request failed · transfer failed"); '' when there was none. */
export function describeOutcome(o: CallOutcome): string {
  const parts: string[] = [];
  for (const { thing, what, count } of o.work) {
    if (count > 0) parts.push(count === 1 ? `${thing} ${what}` : `${count} ${thing}s ${what}`);
  }
  return parts.join(' · ');
}
