/**
 * Rebuilds a call's conversation from its journal: the last snapshot, then every event journaled after it run
 * through xstate's pure `transition()`, which computes states and effects without carrying any out. Events that
 * made the call's logic fail (a `crash` record names them) are skipped, as the live call skipped them. Timers
 * still armed are found from their journaled deadlines, since xstate does not persist delays.
 */
import { createActor, initialTransition, transition, type Snapshot } from 'xstate';
import { SwitchboardError } from '../errors.ts';
import type { CallEvent, CallMachine, Effect } from '../flow/index.ts';
import type { JournalRecord, StartEntry } from '../journal/records.ts';

type MachineSnapshot = ReturnType<typeof initialTransition<CallMachine>>[0];

export interface Recovered {
  start: StartEntry & { at: number };
  /** The machine's state after the last journaled event. */
  snapshot: MachineSnapshot;
  /** Persisted form of `snapshot`, for `createActor`. */
  persisted: Snapshot<unknown>;
  /** Timers armed and neither fired nor cancelled: id and deadline (ms since the epoch). */
  timers: { id: string; deadline: number }[];
  /** The journal has its `end` record. */
  ended: boolean;
  /** Events replayed (after the snapshot used). */
  replayed: number;
  /** The number of the `in` record a snapshot of this state should name. */
  lastIn: number;
}

/** One step of a replay: the event's record and the effects the machine asked for when it took it. */
export interface ReplayStep {
  record: JournalRecord & { kind: 'in' };
  snapshot: MachineSnapshot;
  effects: Effect[];
}

/**
 * Rebuild from `records` (decoded, in order). Throws JOURNAL_CORRUPT when the journal has no `start` or holds an
 * event the machine cannot take, and JOURNAL_NOT_FOUND when it is empty.
 */
export function recover(machine: CallMachine, records: readonly JournalRecord[]): Recovered {
  if (records.length === 0) throw new SwitchboardError('JOURNAL_NOT_FOUND');
  const first = records[0]!;
  if (first.kind !== 'start') {
    throw new SwitchboardError('JOURNAL_CORRUPT', 'the first record is not the call start', {
      seq: first.seq,
    });
  }
  // The last snapshot whose event is still in the journal; replay starts after it.
  let base: { upTo: number; snapshot: MachineSnapshot } | null = null;
  for (let i = records.length - 1; i >= 0 && base === null; i--) {
    const r = records[i]!;
    if (r.kind === 'snap')
      base = { upTo: r.upTo, snapshot: restore(machine, r.snapshot as Snapshot<unknown>) };
  }
  let snapshot = base?.snapshot ?? initialTransition(machine)[0];
  let replayed = 0;
  let lastIn = base?.upTo ?? 0;
  for (const step of replaySteps(machine, records, snapshot, base?.upTo ?? 0)) {
    snapshot = step.snapshot;
    replayed += 1;
    lastIn = step.record.seq;
  }
  return {
    start: first,
    snapshot,
    persisted: machine.getPersistedSnapshot(snapshot),
    timers: armedTimers(records),
    ended: records.some((r) => r.kind === 'end'),
    replayed,
    lastIn,
  };
}

/**
 * The journal's events after record `after`, each run through `transition()` from `snapshot`, with the effects
 * the machine asked for. Events named by a `crash` record are skipped.
 */
export function* replaySteps(
  machine: CallMachine,
  records: readonly JournalRecord[],
  snapshot: MachineSnapshot = initialTransition(machine)[0],
  after = 0,
): Generator<ReplayStep> {
  const crashed = new Set<number>();
  for (const r of records) if (r.kind === 'crash') crashed.add(r.in);
  let current = snapshot;
  for (const record of records) {
    if (record.kind !== 'in' || record.seq <= after || crashed.has(record.seq)) continue;
    const event = record.event as unknown as CallEvent;
    let next: MachineSnapshot;
    let actions: { type: string; params?: unknown }[];
    try {
      [next, actions] = transition(machine, current, event);
    } catch (err) {
      throw new SwitchboardError(
        'JOURNAL_CORRUPT',
        `record ${record.seq}: the flow cannot take its ${event.type} event`,
        { seq: record.seq, event: event.type },
        { cause: err },
      );
    }
    const effects: Effect[] = [];
    for (const a of actions) {
      if (a.type === 'xstate.emit') effects.push((a.params as { event: Effect }).event);
    }
    current = next;
    yield { record, snapshot: next, effects };
  }
}

/** Timers whose `timer` record has no later firing (`timer` event) or cancellation (`timer.cancel` effect). */
function armedTimers(records: readonly JournalRecord[]): { id: string; deadline: number }[] {
  const armed = new Map<string, number>();
  for (const r of records) {
    if (r.kind === 'timer') armed.set(r.id, r.deadline);
    else if (r.kind === 'in' && r.event.type === 'timer') armed.delete(String(r.event.id));
    else if (r.kind === 'eff' && r.effect.type === 'timer.cancel') armed.delete(String(r.effect.id));
  }
  return [...armed].map(([id, deadline]) => ({ id, deadline }));
}

function restore(machine: CallMachine, persisted: Snapshot<unknown>): MachineSnapshot {
  try {
    // An actor that is never started only resolves the persisted snapshot against the machine.
    return createActor(machine, { snapshot: persisted }).getSnapshot();
  } catch (err) {
    throw new SwitchboardError('JOURNAL_CORRUPT', 'a snapshot does not fit the flow', {}, { cause: err });
  }
}
