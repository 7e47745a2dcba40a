/**
 * A call's timeline, read from its journal: the states it entered, what the caller keyed and said, the prompts
 * asked for, web requests and their answers, timers, crashes and the resumes after them, and the end. Pure: the
 * rows are plain text, escaped when rendered.
 */
import type { JournalRecord, Payload } from '../../journal/records.ts';

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

export interface TimelineRow {
  /** Sequence number of the record the row is drawn from. */
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
    rows: [],
    path: [],
    crashes: 0,
    interruptions: 0,
    restarts: 0,
    resumes: 0,
  };
  const crashed = new Set(records.flatMap((r) => (r.kind === 'crash' ? [r.in] : [])));
  const row = (r: JournalRecord, kind: RowKind, title: string, detail: string | null = null): TimelineRow => {
    const out: TimelineRow = { seq: r.seq, at: r.at, offsetMs: r.at - base, kind, title, detail };
    timeline.rows.push(out);
    return out;
  };
  /** The last `in` record whose outcome (its `state` record) has not been seen yet. */
  let pending: JournalRecord | null = null;
  /** The last caller input not yet answered by a prompt. */
  let input: JournalRecord | null = null;
  let lastCrash = false;
  let state: string | null = null;

  for (const r of records) {
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
        if (event.type === 'resume') {
          // A prompt said on a resume answers no input: the input before it crashed or was lost.
          input = null;
          if (lastCrash) {
            timeline.restarts += 1;
            row(r, 'restart', 'actor restarted from its journal after the crash');
          } else {
            timeline.resumes += 1;
            row(r, 'resume', 'call resumed from its journal on a new stream (lease taken again)');
          }
          lastCrash = false;
          break;
        }
        lastCrash = false;
        if (CALLER_INPUTS.has(event.type)) input = r;
        describeEvent(r, event, row);
        break;
      }
      case 'eff':
        describeEffect(r, r.effect, row, (prompt) => {
          if (input === null) return;
          prompt.latencyMs = r.at - input.at;
          input = null;
        });
        break;
      case 'state':
        if (pending?.seq === r.in) pending = null;
        if (r.state !== state) {
          state = r.state;
          timeline.path.push(r.state);
          row(r, 'state', `entered ${r.state}`);
        }
        break;
      case 'crash':
        timeline.crashes += 1;
        lastCrash = true;
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
      case 'timer':
      case 'snap':
        // Deadlines come with their timer.start effect; snapshots are the journal's own bookkeeping.
        break;
    }
  }
  return timeline;
}

type AddRow = (r: JournalRecord, kind: RowKind, title: string, detail?: string | null) => TimelineRow;

function describeEvent(r: JournalRecord, event: Payload, row: AddRow): void {
  const text = (key: string): string => show(event[key]);
  switch (event.type) {
    case 'call.start':
      row(r, 'event', 'call answered');
      return;
    case 'dtmf':
      row(r, 'input', `caller pressed ${text('digit')}`);
      return;
    case 'utterance': {
      const intent =
        event.intent === null || event.intent === undefined ? 'no intent' : `intent ${text('intent')}`;
      const confidence = typeof event.confidence === 'number' ? ` (${event.confidence.toFixed(2)})` : '';
      const entities = Object.entries((event.entities ?? {}) as Record<string, unknown>)
        .map(([k, v]) => `${k}=${show(v)}`)
        .join(', ');
      row(
        r,
        'input',
        `caller said “${text('text')}”`,
        `${intent}${confidence}${entities ? `; ${entities}` : ''}`,
      );
      return;
    }
    case 'played':
      row(r, 'heard', `caller heard prompt ${text('mark')}`);
      return;
    case 'timer':
      row(r, 'timer', `timer ${text('id')} fired`);
      return;
    case 'http.done': {
      const slots = Object.keys(event.slots ?? {});
      row(
        r,
        'web',
        `web request ${text('id')} answered ${text('status')}`,
        slots.length > 0 ? `slots set: ${slots.join(', ')}` : null,
      );
      return;
    }
    case 'http.failed':
      row(r, 'web', `web request ${text('id')} failed`, text('reason'));
      return;
    case 'transfer.failed':
      row(r, 'event', 'transfer failed', text('reason'));
      return;
    case 'speech.failover':
      row(r, 'event', `speech ${text('service')} failed over to ${text('to')}`);
      return;
    case 'giveUp':
      row(r, 'event', "supervisor gave up: going to the flow's onGiveUp state");
      return;
    case 'hangup':
      row(r, 'event', 'hang-up', text('reason'));
      return;
    default:
      row(r, 'event', `event ${event.type}`);
  }
}

function describeEffect(
  r: JournalRecord,
  effect: Payload,
  row: AddRow,
  prompted: (row: TimelineRow) => void,
): void {
  const text = (key: string): string => show(effect[key]);
  switch (effect.type) {
    case 'say':
      prompted(row(r, 'prompt', `said “${text('text')}”`, `mark ${text('mark')}`));
      return;
    case 'clear':
      row(r, 'prompt', 'audio cleared (barge-in)');
      return;
    case 'timer.start':
      row(r, 'timer', `timer ${text('id')} armed for ${text('ms')} ms`);
      return;
    case 'timer.cancel':
      row(r, 'timer', `timer ${text('id')} cancelled`);
      return;
    case 'http':
      row(
        r,
        'web',
        `web request ${text('id')}: ${text('method')} ${where(text('url'))}`,
        `idempotency key ${text('idempotencyKey')}`,
      );
      return;
    case 'hangup':
      row(r, 'event', 'agent hangs up');
      return;
    case 'transfer':
      // The number is not shown: it may be a person's own.
      row(r, 'event', 'transfer asked for');
      return;
    default:
      row(r, 'event', `effect ${effect.type}`);
  }
}

/** The request's origin and path; the query (which may carry a caller's data) and any credentials left out. */
function where(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url.split('?')[0] ?? '';
  }
}

/** A journaled value as text: strings and numbers as they are, anything else as JSON. */
function show(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : JSON.stringify(value);
}
