/**
 * Replays a recorded call against the current flow (and, when given, the current intent model): each journaled
 * event is run through the pure `transition()` and the states and effects it gives are compared with those the
 * call journaled. Identical means the flow (and model) still behave as they did on the call; the first
 * difference is reported with its record number, what was recorded and what the replay gave.
 */
import { isDeepStrictEqual } from 'node:util';
import { initialTransition } from 'xstate';
import type { CallEvent, CompiledFlow, Effect } from '../flow/index.ts';
import type { JournalRecord } from '../journal/records.ts';
import { replaySteps } from './recovery.ts';
import { localDate, type Understanding, type Utterance } from './understanding.ts';

export interface Divergence {
  /** Sequence number of the record where the replay first differs. */
  record: number;
  /** What differs: `understanding` (intent or entities), `state` or `effects`. */
  what: 'understanding' | 'state' | 'effects' | 'flow';
  expected: unknown;
  got: unknown;
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
  const effectsOf = recordedEffects(records);
  // Events are taken as recorded unless an utterance is understood again; the replay then feeds its own.
  const events = options.understanding
    ? await reunderstood(compiled, records, options.understanding, report)
    : records;
  if (report.divergence) return report;
  for (const step of replaySteps(compiled.machine, events, initialTransition(compiled.machine)[0])) {
    report.events += 1;
    const seq = step.record.seq;
    const recorded = effectsOf.get(seq);
    // The last event of a call cut off by a crash may have no recorded outcome: nothing to compare.
    if (!recorded) continue;
    const state = step.snapshot.context.state;
    if (recorded.state !== null && recorded.state !== state) {
      report.divergence = { record: seq, what: 'state', expected: recorded.state, got: state };
      return report;
    }
    if (!isDeepStrictEqual(normalize(step.effects), normalize(recorded.effects))) {
      report.divergence = { record: seq, what: 'effects', expected: recorded.effects, got: step.effects };
      return report;
    }
  }
  return report;
}

/** For each `in` record, the effects and state journaled after it; absent when none were (a crash cut it). */
function recordedEffects(
  records: readonly JournalRecord[],
): Map<number, { effects: Effect[]; state: string | null }> {
  const out = new Map<number, { effects: Effect[]; state: string | null }>();
  let current: { effects: Effect[]; state: string | null } | null = null;
  for (const r of records) {
    if (r.kind === 'in') {
      current = { effects: [], state: null };
      out.set(r.seq, current);
      // Only events whose outcome was journaled are compared.
      current.state = null;
    } else if (r.kind === 'eff' && current) current.effects.push(r.effect as unknown as Effect);
    else if (r.kind === 'state' && current) current.state = r.state;
    else if (r.kind === 'crash') out.delete(r.in);
  }
  for (const [seq, outcome] of out) if (outcome.state === null) out.delete(seq);
  return out;
}

/** The records with each utterance understood again, in the state the replay is in when it is said. */
async function reunderstood(
  compiled: CompiledFlow,
  records: readonly JournalRecord[],
  understanding: Understanding,
  report: ReplayReport,
): Promise<JournalRecord[]> {
  const out: JournalRecord[] = [];
  const crashed = new Set(records.flatMap((r) => (r.kind === 'crash' ? [r.in] : [])));
  let snapshot = initialTransition(compiled.machine)[0];
  for (const record of records) {
    if (record.kind !== 'in' || record.event.type !== 'utterance') {
      out.push(record);
    } else {
      const heard = record.event as unknown as Utterance;
      const state = snapshot.context.state;
      const got = await understanding.interpret(heard.text, state, heard.at, localDate(heard.at));
      report.understood += 1;
      if (got.intent !== heard.intent || !isDeepStrictEqual(got.entities, heard.entities)) {
        report.divergence = {
          record: record.seq,
          what: 'understanding',
          expected: { intent: heard.intent, entities: heard.entities },
          got: { intent: got.intent, entities: got.entities },
        };
        return out;
      }
      out.push({ ...record, event: { ...got } as unknown as CallEvent & { type: string } });
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
