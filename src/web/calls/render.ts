/**
 * The calls pages as HTML: the list of recent calls, one call's timeline beside its flow's diagram, and the pages
 * for an unknown call or a journal that cannot be read. No scripts; every value is escaped.
 */
import { escapeHtml } from './escape.ts';
import { describeOutcome, type CallOutcome } from './outcome.ts';
import type { FoldedRecord, Timeline, TimelineRow } from './timeline.ts';

export const STYLESHEET_PATH = '/calls/style.css';

/** One line of the calls list. */
export interface CallListEntry {
  callId: string;
  flow: string | null;
  flowVersion: number | null;
  startedAt: number | null;
  durationMs: number | null;
  /** The end record's reason, or null while open. */
  endReason: string | null;
  ended: boolean;
  /** Its last state, web requests and transfers; null when the journal was not read. */
  outcome: CallOutcome | null;
  crashes: number;
  resumes: number;
  /** A journal that cannot be read: its error code. */
  damaged: string | null;
}

export interface CallView {
  timeline: Timeline;
  /** The fencing token: how many times the call's lease was taken. */
  leaseToken: number | null;
  owner: string | null;
  /** The flow's diagram, or why there is none (the version is not loaded). */
  diagram: { svg: string; unknownStates: string[]; note?: string } | { missing: string };
  /** The journal's last record was cut short and left out. */
  tornTail: boolean;
  /** Set when only the first `shown` of the journal's `total` records are drawn (a very long journal). */
  cut?: { shown: number; total: number };
  /** The call's recordings, as their status callbacks last reported them. */
  recordings?: readonly { sid: string; status: string; url: string | null; duration: number | null }[];
}

const h = escapeHtml;

/** "RE… completed, 42 s, https://…" for each recording; its URL is where Twilio keeps the audio. */
function recordingsText(recordings: NonNullable<CallView['recordings']>): string {
  if (recordings.length === 0) return 'none';
  return recordings
    .map((r) =>
      [r.sid, r.status, r.duration === null ? null : `${r.duration} s`, r.url]
        .filter((x) => x !== null)
        .join(', '),
    )
    .join('; ');
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${h(title)}</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
${body}
</body>
</html>
`;
}

/** The link to a call's page; the id is URL-encoded, then escaped for the attribute. */
export function callHref(callId: string, suffix = ''): string {
  return `/calls/${encodeURIComponent(callId)}${suffix}`;
}

export function time(ms: number | null): string {
  return ms === null
    ? '-'
    : new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');
}

/** A duration in ms as `1.234 s` or `2 min 05 s`. */
export function duration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 60_000) return `${(ms / 1000).toFixed(3)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

export function renderCallList(calls: readonly CallListEntry[], where: string, limit: number): string {
  const rows = calls
    .map((c) => {
      const how = c.damaged !== null ? `damaged (${c.damaged})` : c.ended ? (c.endReason ?? 'ended') : 'open';
      return `<tr class="${c.damaged !== null ? 'damaged' : c.ended ? 'ended' : 'open'}">
<td><a href="${h(callHref(c.callId))}">${h(c.callId)}</a></td>
<td>${h(c.flow ?? '-')}${c.flowVersion === null ? '' : ` v${h(c.flowVersion)}`}</td>
<td>${h(time(c.startedAt))}</td>
<td class="num">${h(duration(c.durationMs))}</td>
<td>${h(c.outcome?.lastState ?? '-')}</td>
<td>${h((c.outcome && describeOutcome(c.outcome)) || '-')}</td>
<td class="how">${h(how)}</td>
<td class="num">${h(c.resumes)}</td>
<td class="num">${h(c.crashes)}</td>
</tr>`;
    })
    .join('\n');
  const body = `<header><h1>Calls</h1><p class="muted">The ${h(limit)} most recently active calls in ${h(where)}, newest first. Journals hold what callers said and typed: personal data.</p></header>
<main>
${
  calls.length === 0
    ? '<p class="empty">No calls in the journal yet.</p>'
    : `<table class="calls">
<thead><tr><th>call</th><th>flow</th><th>started</th><th>duration</th><th>last state</th><th>web requests and transfers</th><th>how it ended</th><th>resumes</th><th>crashes</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`
}
</main>`;
  return page('Calls', body);
}

function rowHtml(r: TimelineRow): string {
  const latency =
    r.latencyMs === undefined
      ? ''
      : `<span class="latency">${h(duration(r.latencyMs))} after the input</span>`;
  const detail = r.detail === null ? '' : `<div class="detail">${h(r.detail)}</div>`;
  return `<tr class="row ${h(r.kind)}" id="r${h(r.seq)}">
<td class="num">+${h(duration(r.offsetMs))}</td>
<td class="kind">${h(r.kind)}</td>
<td><div>${h(r.title)}${latency}</div>${detail}${foldedHtml(r.folded)}</td>
<td class="num seq">${h(r.seq)}</td>
</tr>`;
}

/** The records folded into a row, listed under it when opened: "7 more keys · 15 timer changes". */
function foldedHtml(folded: readonly FoldedRecord[]): string {
  if (folded.length === 0) return '';
  const count = (kind: FoldedRecord['kind']): number => folded.filter((f) => f.kind === kind).length;
  const keys = count('key');
  const timers = count('timer');
  const summary = [
    keys === 0 ? '' : `${keys} more key${keys === 1 ? '' : 's'}`,
    timers === 0 ? '' : `${timers} timer change${timers === 1 ? '' : 's'}`,
    count('clear') === 0 ? '' : 'audio cleared',
  ]
    .filter((part) => part !== '')
    .join(' · ');
  const items = folded
    .map((f) => `<li>+${h(duration(f.offsetMs))} record ${h(f.seq)}: ${h(f.text)}</li>`)
    .join('');
  return `<details class="folded"><summary>${h(summary)}</summary><ul>${items}</ul></details>`;
}

/** The timeline rows as a table (exported for tests). */
export function renderTimeline(timeline: Timeline): string {
  return `<table class="timeline">
<thead><tr><th>at</th><th>what</th><th></th><th>record</th></tr></thead>
<tbody>
${timeline.rows.map(rowHtml).join('\n')}
</tbody>
</table>`;
}

export function renderCall(view: CallView): string {
  const t = view.timeline;
  const facts: [string, string][] = [
    ['flow', t.flow === null ? '-' : `${t.flow} v${t.flowVersion ?? '?'}`],
    ['intent model', t.modelVersion ?? '-'],
    ['started', time(t.startedAt)],
    ['duration', duration(t.durationMs)],
    ['ended', t.endReason ?? 'open'],
    ['last state', t.outcome.lastState ?? '-'],
    ['web requests and transfers', describeOutcome(t.outcome) || 'none'],
    ['crashes', String(t.crashes)],
    ['interrupted turns', String(t.interruptions)],
    ['actor restarts', String(t.restarts)],
    ['resumes on a new stream', String(t.resumes)],
    ['lease token', view.leaseToken === null ? '-' : `${view.leaseToken} (times the call was taken)`],
    ['held by', view.owner ?? 'nobody'],
    ['recordings', recordingsText(view.recordings ?? [])],
  ];
  const diagram =
    'missing' in view.diagram
      ? `<p class="warning">${h(view.diagram.missing)}</p>`
      : `${view.diagram.note === undefined ? '' : `<p class="warning">${h(view.diagram.note)}</p>`}${view.diagram.svg}${
          view.diagram.unknownStates.length > 0
            ? `<p class="warning">States not in the loaded flow: ${h(view.diagram.unknownStates.join(', '))}</p>`
            : ''
        }`;
  const body = `<header><p><a href="/calls">← all calls</a></p><h1>Call ${h(t.callId)}</h1>
<dl class="facts">${facts.map(([k, v]) => `<dt>${h(k)}</dt><dd>${h(v)}</dd>`).join('')}</dl>
<p><a class="download" href="${h(callHref(t.callId, '/log'))}" download>Download the call log</a> <span class="muted">(JSON lines, for <code>switchboard replay</code>)</span></p>
${view.tornTail ? '<p class="warning">The last record was cut short (a write interrupted) and is left out.</p>' : ''}
${view.cut ? `<p class="warning">This journal has ${view.cut.total} records; the first ${view.cut.shown} are drawn. The whole journal is in its log (JSON lines).</p>` : ''}
</header>
<main class="call">
<section class="timeline-pane"><h2>Timeline</h2>
<p class="muted">Times from the call's first record. A prompt's gap after an input is as the journal tells it: the time of the record that asked for the prompt.</p>
${renderTimeline(t)}
</section>
<aside class="diagram-pane"><h2>Path through the flow</h2>
${diagram}
</aside>
</main>`;
  return page(`Call ${t.callId}`, body);
}

export function renderNotFound(callId: string): string {
  return page(
    'No such call',
    `<header><p><a href="/calls">← all calls</a></p><h1>No such call</h1></header>
<main><p>There is no journal for call <code>${h(callId)}</code>.</p></main>`,
  );
}

export function renderDamaged(callId: string, code: string, message: string): string {
  return page(
    `Call ${callId}: journal damaged`,
    `<header><p><a href="/calls">← all calls</a></p><h1>Call ${h(callId)}</h1></header>
<main><p class="warning">This call's journal cannot be read: <code class="code">${h(code)}</code> ${h(message)}</p></main>`,
  );
}
