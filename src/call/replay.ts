/**
 * Replays a recorded call against the current flow (and, when given, the current intent model): each journaled
 * event is run through the pure `transition()` and the states and effects it gives are compared with those the
 * call journaled. Identical means the flow (and model) still behave as they did on the call; the first
 * difference is reported with its record, the state the event came in, what was recorded and what the replay
 * gave, and the states each went through.
 */
import { isDeepStrictEqual } from 'node:util';
import { getMicrosteps, initialTransition } from 'xstate';
import {
  BOOT_STATE,
  type CallEvent,
  type CallMachine,
  type CompiledFlow,
  type Effect,
} from '../flow/index.ts';
import type { JournalRecord, Payload } from '../journal/records.ts';
import { replaySteps, type ReplayStep } from './recovery.ts';
import { localDate, type Understanding, type Utterance } from './understanding.ts';

export type Divergence =
  /** The call ran another flow than the one replayed: `expected` is the call's, `got` the replayed one's. */
  { record: number; what: 'flow'; expected: string; got: string } | EventDivergence;

/** The replay went differently on one of the call's events. */
export interface EventDivergence {
  /** Sequence number of the event's record. */
  record: number;
  /** What differs: `understanding` (intent or entities), `state` or `effects`. */
  what: 'understanding' | 'state' | 'effects';
  expected: unknown;
  got: unknown;
  /** The event as journaled. */
  event: Payload;
  /** The state the call was in when the event came; null before the call's first state. */
  state: string | null;
  /**
   * The states the call went through on the event as journaled: the one it was in, then the one it stopped in.
   * The journal keeps only where each event left the call, not the decision states it passed on the way.
   */
  recordedPath: string[];
  /**
   * The states the replay went through on the event, those it passed without stopping included. For
   * `understanding`, where the event leads as it is understood now.
   */
  replayedPath: string[];
  /** The effects journaled for the event, and those the replay gave (for `understanding`, as understood now). */
  recordedEffects: Effect[];
  replayedEffects: Effect[];
}

export interface ReplayReport {
  callId: string;
  flow: string;
  /** The flow version the call ran, and the version replayed against. */
  recordedVersion: number;
  replayedVersion: number;
  /** Events replayed. */
  events: number;
  /** Utterances understood again by the current model. */
  understood: number;
  divergence: Divergence | null;
}

export interface ReplayOptions {
  /** Understand each utterance's text again (the current model); without it the recorded intents are used. */
  understanding?: Understanding;
}

type MachineSnapshot = ReplayStep['snapshot'];

/** What the call journaled around one event: the state it came in, its effects, the state it left the call in. */
interface Outcome {
  before: string | null;
  effects: Effect[];
  /** Null when the event's outcome was never journaled (a crash or a dying process cut it). */
  after: string | null;
}

/** Replay `records` (decoded, in order) against `compiled`. Throws JOURNAL_CORRUPT for a journal without start. */
export async function replayCall(
  compiled: CompiledFlow,
  records: readonly JournalRecord[],
  options: ReplayOptions = {},
): Promise<ReplayReport> {
  const start = records[0];
  if (start?.kind !== 'start') throw new Error('the journal does not begin with its start record');
  const report: ReplayReport = {
    callId: start.callId,
    flow: start.flow,
    recordedVersion: start.flowVersion,
    replayedVersion: compiled.flow.version,
    events: 0,
    understood: 0,
    divergence: null,
  };
  if (start.flow !== compiled.flow.id) {
    report.divergence = { record: start.seq, what: 'flow', expected: start.flow, got: compiled.flow.id };
    return report;
  }
  const outcomes = recordedOutcomes(records);
  // Events are taken as recorded unless an utterance is understood again; the replay then feeds its own.
  const events = options.understanding
    ? await reunderstood(compiled, records, outcomes, options.understanding, report)
    : records;
  if (report.divergence) return report;
  let before = initialTransition(compiled.machine)[0];
  for (const step of replaySteps(compiled.machine, events, before)) {
    report.events += 1;
    const recorded = outcomes.get(step.record.seq);
    const differs = recorded ? compare(recorded, step) : null;
    if (recorded && differs) {
      report.divergence = {
        ...differs,
        ...aroundEvent(compiled.machine, step.record, recorded, before, step),
      };
      return report;
    }
    before = step.snapshot;
  }
  return report;
}

/** How the replay's outcome of an event differs from the journaled one; null when it does not. */
function compare(
  recorded: Outcome,
  replayed: ReplayStep,
): Pick<EventDivergence, 'what' | 'expected' | 'got'> | null {
  // The last event of a call cut off by a crash may have no recorded outcome: nothing to compare.
  if (recorded.after === null) return null;
  const state = replayed.snapshot.context.state;
  if (recorded.after !== state) return { what: 'state', expected: recorded.after, got: state };
  if (!isDeepStrictEqual(normalize(replayed.effects), normalize(recorded.effects))) {
    return { what: 'effects', expected: recorded.effects, got: replayed.effects };
  }
  return null;
}

/** The context of a difference at `record`: its event, and what the call and the replay did on it. */
function aroundEvent(
  machine: CallMachine,
  record: ReplayStep['record'],
  recorded: Outcome,
  before: MachineSnapshot,
  replayed: ReplayStep,
): Omit<EventDivergence, 'what' | 'expected' | 'got'> {
  return {
    record: record.seq,
    event: record.event,
    state: recorded.before ?? inFlow(before.context.state),
    recordedPath: withoutRepeats([recorded.before, recorded.after]),
    replayedPath: statesThrough(machine, before, replayed.record.event as unknown as CallEvent),
    recordedEffects: recorded.effects,
    replayedEffects: replayed.effects,
  };
}

/** The states `event` takes the machine through from `snapshot`, starting with the one it is in. */
function statesThrough(machine: CallMachine, snapshot: MachineSnapshot, event: CallEvent): string[] {
  const states = [inFlow(snapshot.context.state)];
  for (const [next] of getMicrosteps(machine, snapshot, event)) states.push(inFlow(next.context.state));
  return withoutRepeats(states);
}

/** A machine state as a flow state: null before the call has started. */
function inFlow(state: string): string | null {
  return state === BOOT_STATE ? null : state;
}

/** The states in order, each stay in one state once, unknown ones left out. */
function withoutRepeats(states: readonly (string | null)[]): string[] {
  const out: string[] = [];
  for (const s of states) if (s !== null && s !== out.at(-1)) out.push(s);
  return out;
}

/** For each `in` record, what the call journaled around it. */
function recordedOutcomes(records: readonly JournalRecord[]): Map<number, Outcome> {
  const out = new Map<number, Outcome>();
  let current: Outcome | null = null;
  let state: string | null = null;
  for (const r of records) {
    if (r.kind === 'in') {
      current = { before: state, effects: [], after: null };
      out.set(r.seq, current);
    } else if (r.kind === 'eff' && current) current.effects.push(r.effect as unknown as Effect);
    else if (r.kind === 'state') {
      state = r.state;
      if (current) current.after = r.state;
    } else if (r.kind === 'crash') {
      // The event made the call's logic fail: it has no outcome to compare.
      const crashed = out.get(r.in);
      if (crashed) crashed.after = null;
    }
  }
  return out;
}

/** The records with each utterance understood again, in the state the replay is in when it is said. */
async function reunderstood(
  compiled: CompiledFlow,
  records: readonly JournalRecord[],
  outcomes: ReadonlyMap<number, Outcome>,
  understanding: Understanding,
  report: ReplayReport,
): Promise<JournalRecord[]> {
  const out: JournalRecord[] = [];
  const crashed = new Set(records.flatMap((r) => (r.kind === 'crash' ? [r.in] : [])));
  let snapshot = initialTransition(compiled.machine)[0];
  for (const record of records) {
    // Words without their transcript (left out of a journal, or damaged) cannot be understood again: as recorded.
    if (record.kind !== 'in' || record.event.type !== 'utterance' || typeof record.event.text !== 'string') {
      out.push(record);
    } else {
      const heard = record.event as unknown as Utterance;
      const state = snapshot.context.state;
      const got = await understanding.interpret(heard.text, state, heard.at, localDate(heard.at));
      report.understood += 1;
      const now = { ...record, event: { ...got } as unknown as CallEvent & { type: string } };
      if (got.intent !== heard.intent || !isDeepStrictEqual(got.entities, heard.entities)) {
        // Where the words lead as understood now, to show beside where they led on the call.
        const [step] = replaySteps(compiled.machine, [now], snapshot);
        const recorded = outcomes.get(record.seq)!;
        report.divergence = {
          what: 'understanding',
          expected: { intent: heard.intent, confidence: heard.confidence, entities: heard.entities },
          got: { intent: got.intent, confidence: got.confidence, entities: got.entities },
          ...aroundEvent(compiled.machine, record, recorded, snapshot, step!),
        };
        return out;
      }
      out.push(now);
    }
    // Keep the replay's state in step to know which state each utterance is said in.
    const last = out.at(-1)!;
    if (last.kind === 'in' && !crashed.has(last.seq)) {
      for (const step of replaySteps(compiled.machine, [last], snapshot)) snapshot = step.snapshot;
    }
  }
  return out;
}

/** Effects as JSON would carry them, so optional fields left undefined compare equal to absent ones. */
function normalize(effects: readonly Effect[]): unknown {
  return JSON.parse(JSON.stringify(effects)) as unknown;
}
