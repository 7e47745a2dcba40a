/**
 * A call's timeline, read from its journal: the states it entered, what the caller keyed and said, the prompts
 * asked for, web requests and their answers, timers that fired, crashes and the resumes after them, and the end.
 * It reads as the conversation: the bookkeeping an event caused (timers cancelled and armed, audio cleared) is
 * folded into that event's row, and the keys of one digit entry are one row. Pure: the rows are plain text,
 * escaped when rendered.
 */
import { describeEffect, describeEvent } from '../../flow/describe.ts';
import { spokenPrompt } from '../../flow/index.ts';
import type { JournalRecord } from '../../journal/records.ts';
import { callOutcome, type CallOutcome } from './outcome.ts';

export type RowKind =
  | 'start'
  | 'state'
  | 'input'
  | 'prompt'
  | 'heard'
  | 'web'
  | 'timer'
  | 'crash'
  | 'interrupted'
  | 'restart'
  | 'resume'
  | 'event'
  | 'end';

/** A record shown inside another's row: a later key of the same entry, or bookkeeping the row's event caused. */
export interface FoldedRecord {
  seq: number;
  offsetMs: number;
  kind: 'key' | 'timer' | 'clear';
  text: string;
}

export interface TimelineRow {
  /** Sequence number of the record the row is drawn from (an entry's first key). */
  seq: number;
  /** ms since the epoch, and since the call's first record. */
  at: number;
  offsetMs: number;
  kind: RowKind;
  title: string;
  detail: string | null;
  /**
   * For the first prompt after a caller's input: ms from that input to the record asking for the prompt, as
   * far as the journal can tell (records carry the time of the event that caused them).
   */
  latencyMs?: number;
  /** Records folded into this row, in order. */
  folded: FoldedRecord[];
}

export interface Timeline {
  callId: string;
  flow: string | null;
  flowVersion: number | null;
  modelVersion: string | null;
  startedAt: number | null;
  /** From the first record to the last (or the end record). */
  durationMs: number;
  /** The end record's reason; null while the call is open. */
  endReason: string | null;
  /** Where the call got to: its last state, its web requests and transfers. */
  outcome: CallOutcome;
  rows: TimelineRow[];
  /** The states the call was in, in order, each change once (a state entered again appears again). */
  path: string[];
  /** `crash` records: the call's logic failed on an event. */
  crashes: number;
  /**
   * Events whose outcome was never journaled before the call was taken up again (the process or its stream
   * died in between); recovery replays them.
   */
  interruptions: number;
  /** Actor restarts after a crash, and resumes on a new stream or instance. */
  restarts: number;
  resumes: number;
}

const CALLER_INPUTS: ReadonlySet<string> = new Set(['dtmf', 'utterance']);
/** Effects folded into the row of the event that asked for them. */
const BOOKKEEPING: ReadonlyMap<string, FoldedRecord['kind']> = new Map([
  ['timer.start', 'timer'],
  ['timer.cancel', 'timer'],
  ['clear', 'clear'],
]);

/** Build the timeline of one call's decoded records (in sequence order). */
export function buildTimeline(records: readonly JournalRecord[]): Timeline {
  const first = records[0];
  const start = first?.kind === 'start' ? first : null;
  const base = first?.at ?? 0;
  const timeline: Timeline = {
    callId: first?.callId ?? '',
    flow: start?.flow ?? null,
    flowVersion: start?.flowVersion ?? null,
    modelVersion: start?.modelVersion ?? null,
    startedAt: first?.at ?? null,
    durationMs: records.length === 0 ? 0 : records.at(-1)!.at - base,
    endReason: null,
    outcome: callOutcome(records),
    rows: [],
    path: [],
    crashes: 0,
    interruptions: 0,
    restarts: 0,
    resumes: 0,
  };
  const crashed = new Set(records.flatMap((r) => (r.kind === 'crash' ? [r.in] : [])));
  const row = (r: JournalRecord, kind: RowKind, title: string, detail: string | null = null): TimelineRow => {
    const out: TimelineRow = { seq: r.seq, at: r.at, offsetMs: r.at - base, kind, title, detail, folded: [] };
    timeline.rows.push(out);
    return out;
  };
  const fold = (into: TimelineRow, r: JournalRecord, kind: FoldedRecord['kind'], text: string): void => {
    into.folded.push({ seq: r.seq, offsetMs: r.at - base, kind, text });
  };
  /** The last `in` record whose outcome (its `state` record) has not been seen yet. */
  let pending: JournalRecord | null = null;
  /** The last caller input not yet answered by a prompt. */
  let input: JournalRecord | null = null;
  let lastCrash = false;
  let state: string | null = null;
  /** The row of the last `in` record: the effects after it are its event's. */
  let eventRow: TimelineRow | null = null;
  /** What the last `in` record's event asked for, to tell a key that continues a digit entry. */
  let step = { key: false, armed: false, said: false };
  /** The keypad entry of the last key; `open` while the next key may join its row. */
  let entry: { row: TimelineRow; keys: string; open: boolean } | null = null;

  for (const r of records) {
    if (r.withheld !== undefined && (r.kind === 'in' || r.kind === 'eff')) {
      // Only the type is in clear: the row says what happened, and why the details are not shown.
      const message = r.kind === 'in' ? r.event : r.effect;
      const said = r.kind === 'in' ? describeEvent(message) : describeEffect(message);
      eventRow = row(r, said.kind, `${message.type}: details withheld`, withheldDetail(r.withheld));
      if (r.kind === 'in') pending = r;
      continue;
    }
    switch (r.kind) {
      case 'start':
        row(
          r,
          'start',
          `call started on flow ${r.flow} v${r.flowVersion}`,
          r.modelVersion === null ? null : `intent model ${r.modelVersion}`,
        );
        break;
      case 'in': {
        if (pending !== null && !crashed.has(pending.seq)) {
          timeline.interruptions += 1;
          row(
            pending,
            'interrupted',
            `no outcome journaled for record ${pending.seq} (${pending.kind === 'in' ? pending.event.type : ''})`,
            'the process or its stream stopped before the outcome was written; the event is replayed when the call is taken up again',
          );
        }
        pending = r;
        const event = r.event;
        step = { key: event.type === 'dtmf', armed: false, said: false };
        if (event.type === 'resume') {
          // A prompt said on a resume answers no input: the input before it crashed or was lost.
          input = null;
          if (lastCrash) {
            timeline.restarts += 1;
            eventRow = row(r, 'restart', 'actor restarted from its journal after the crash');
          } else {
            timeline.resumes += 1;
            eventRow = row(r, 'resume', 'call resumed from its journal on a new stream (lease taken again)');
          }
          lastCrash = false;
          entry = null;
          break;
        }
        lastCrash = false;
        if (CALLER_INPUTS.has(event.type)) input = r;
        const digit = typeof event.digit === 'string' ? event.digit : '';
        if (event.type === 'dtmf' && entry?.open === true && timeline.rows.at(-1) === entry.row) {
          entry.keys += digit;
          entry.row.title = `caller keyed ${entry.keys}`;
          fold(entry.row, r, 'key', `key ${digit}`);
          entry.open = false;
          eventRow = entry.row;
          break;
        }
        const said = describeEvent(event);
        eventRow = row(r, said.kind, said.title, said.detail);
        entry = event.type === 'dtmf' ? { row: eventRow, keys: digit, open: false } : null;
        break;
      }
      case 'eff': {
        const effect = r.effect;
        const speaks = spokenPrompt(effect) !== null;
        if (speaks) step.said = true;
        if (effect.type === 'timer.start') step.armed = true;
        const asked = describeEffect(effect);
        const bookkeeping = BOOKKEEPING.get(effect.type);
        if (bookkeeping !== undefined && eventRow !== null) {
          fold(eventRow, r, bookkeeping, asked.title);
          break;
        }
        const added = row(r, asked.kind, asked.title, asked.detail);
        if (speaks && input !== null) {
          added.latencyMs = r.at - input.at;
          input = null;
        }
        break;
      }
      case 'state':
        if (pending?.seq === r.in) pending = null;
        // A key that only restarted the wait, in the same state, continues a digit entry: the next key joins it.
        if (entry !== null && step.key) entry.open = step.armed && !step.said && r.state === state;
        if (r.state !== state) {
          state = r.state;
          timeline.path.push(r.state);
          row(r, 'state', `entered ${r.state}`);
        }
        break;
      case 'crash':
        timeline.crashes += 1;
        lastCrash = true;
        entry = null;
        if (pending?.seq === r.in) pending = null;
        row(
          r,
          'crash',
          `the call's logic failed on record ${r.in} (${r.code})`,
          'that event is never delivered again',
        );
        break;
      case 'end':
        timeline.endReason = r.reason;
        timeline.durationMs = r.at - base;
        row(r, 'end', `call ended: ${r.reason}`);
        break;
      case 'shadow': {
        // Beside the words it is about (the utterance's row has its time), else on a row of its own.
        const said = `shadow model ${r.version} understood ${r.intent ?? 'nothing'} (${r.confidence.toFixed(2)})`;
        const turn = timeline.rows.findLast((t) => t.at === r.turn && t.kind === 'input');
        if (turn) turn.detail = turn.detail === null ? said : `${turn.detail} · ${said}`;
        else row(r, 'event', said);
        break;
      }
      case 'timer':
      case 'snap':
        // Deadlines come with their timer.start effect; snapshots are the journal's own bookkeeping.
        break;
    }
  }
  return timeline;
}

function withheldDetail(key: string): string {
  return `encrypted under journal key ${key}, which this server does not have (JOURNAL_KEY)`;
}
