/**
 * The calls pages: recent calls from the journal store, and one call's timeline beside its flow's diagram with
 * the path it took, drawn from its journal; and the journal itself as JSON lines, the format `switchboard replay`
 * reads (as `switchboard calls export` writes it). Server-rendered HTML without scripts, under a strict CSP.
 *
 * The journal holds what callers said and typed: these pages are the operator's local view, served only where
 * the softphone is (a local, trusted setting), to this server's own host names (dev-host.ts). The list page (and
 * the softphone's) sets a page token in a SameSite=Strict, HttpOnly cookie; a call's page and its log require
 * it, so they open only from those pages, never from another site's link or a script of another origin.
 *
 * A call's page draws at most MAX_DRAWN records, and its log is written a slice at a time, yielding between
 * slices: one long journal cannot hold up the event loop every live call's audio runs on.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readRecordings } from '../call/recordings.ts';
import { SwitchboardError, isErrorFamily } from '../errors.ts';
import type { CompiledFlow } from '../flow/index.ts';
import { encodeRecord, readRecords, type JournalRecord } from '../journal/records.ts';
import { listCalls } from '../journal/side-journal.ts';
import type { JournalStore } from '../journal/store.ts';
import type { Logger } from '../observability/logger.ts';
import { flowDiagram } from '../web/calls/diagram.ts';
import {
  STYLESHEET_PATH,
  renderCall,
  renderCallList,
  renderDamaged,
  renderNotFound,
  type CallListEntry,
  type CallView,
} from '../web/calls/render.ts';
import { buildTimeline } from '../web/calls/timeline.ts';
import { pageCookie, setPageCookie, type PageTokens } from './softphone-token.ts';

/** Calls shown on the list page. */
export const CALLS_LIST_LIMIT = 100;
/** Call ids are Twilio's `CA` + 32 hex digits; anything much longer is not one. */
const MAX_CALL_ID = 128;
/** Records a call's page draws; a list entry of a longer call shows only what its summary says. */
export const MAX_DRAWN = 2000;
/** Lines of a log written per turn of the event loop. */
const LOG_SLICE = 500;

/** The pages load only their own stylesheet; no scripts, no framing, no forms. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export interface CallsPageOptions {
  store: JournalStore;
  /** Mints and checks the page token of the cookie (the softphone's). */
  tokens: PageTokens;
  /** The loaded flows by id (a FlowLibrary's live `flows`). */
  flows: ReadonlyMap<string, CompiledFlow>;
  logger: Logger;
  limit?: number;
}

type Read =
  { ok: true; records: JournalRecord[]; tornTail: boolean } | { ok: false; code: string; message: string };

export class CallsPage {
  readonly #opts: CallsPageOptions;
  readonly #style: Buffer;

  constructor(opts: CallsPageOptions) {
    this.#opts = opts;
    // Read once at start-up, as the softphone's files are.
    this.#style = readFileSync(new URL('../web/calls/style.css', import.meta.url));
  }

  /** Serve a calls route; false when `route` ("METHOD /path") is not one. Throws typed errors for the app. */
  async handle(req: IncomingMessage, res: ServerResponse, route: string): Promise<boolean> {
    const [method, path = ''] = route.split(' ');
    if (path !== '/calls' && !path.startsWith('/calls/')) return false;
    if (method !== 'GET' && method !== 'HEAD') {
      throw new SwitchboardError('HTTP_METHOD_NOT_ALLOWED', undefined, { route: route.slice(0, 200) });
    }
    if (path === '/calls') {
      send(res, 200, await this.#list(), 'text/html; charset=utf-8', {
        ...PAGE_HEADERS,
        ...(this.#opts.tokens.verify(pageCookie(req)) ? {} : setPageCookie(this.#opts.tokens.mint())),
      });
      return true;
    }
    if (path === STYLESHEET_PATH) {
      send(res, 200, this.#style, 'text/css; charset=utf-8', { 'x-content-type-options': 'nosniff' });
      return true;
    }
    const parts = path.slice('/calls/'.length).split('/');
    const callId = decode(parts[0] ?? '');
    if (callId === null || callId === '' || callId.length > MAX_CALL_ID || parts.length > 2) return false;
    if (parts.length === 2 && parts[1] !== 'log') return false;
    if (!this.#opts.tokens.verify(pageCookie(req))) {
      throw new SwitchboardError('HTTP_TOKEN_INVALID', 'open the calls list (/calls) first');
    }
    const read = await this.#read(callId);
    if (read === null) {
      send(res, 404, renderNotFound(callId), 'text/html; charset=utf-8', PAGE_HEADERS);
      return true;
    }
    if (!read.ok) {
      this.#opts.logger.warn('calls page: journal cannot be read', { callId, code: read.code });
      const status = parts.length === 2 ? 500 : 200;
      send(
        res,
        status,
        renderDamaged(callId, read.code, read.message),
        'text/html; charset=utf-8',
        PAGE_HEADERS,
      );
      return true;
    }
    if (parts.length === 2) {
      // Exactly what `switchboard calls export` writes: each decoded record encoded again, one per line.
      await sendLog(res, read.records, {
        'content-type': 'application/x-ndjson; charset=utf-8',
        'content-disposition': `attachment; filename="${safeFileName(callId)}.jsonl"`,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
      });
      return true;
    }
    send(res, 200, await this.#call(callId, read), 'text/html; charset=utf-8', PAGE_HEADERS);
    return true;
  }

  /** The call's records; null when the store has none; the error code when they cannot be read. */
  async #read(callId: string): Promise<Read | null> {
    const rows = await this.#opts.store.read(callId);
    if (rows.length === 0) return null;
    try {
      const { records, tornTail } = readRecords(rows.map((r) => r.line));
      return { ok: true, records, tornTail };
    } catch (err) {
      if (isErrorFamily(err, 'JOURNAL')) {
        return { ok: false, code: err.code, message: err.message };
      }
      throw err;
    }
  }

  async #list(): Promise<string> {
    const limit = this.#opts.limit ?? CALLS_LIST_LIMIT;
    const store = this.#opts.store;
    const calls = await listCalls(store, limit);
    const entries: CallListEntry[] = [];
    for (const summary of calls) {
      const entry: CallListEntry = {
        callId: summary.callId,
        flow: summary.flow,
        flowVersion: null,
        startedAt: summary.firstAt,
        durationMs:
          summary.firstAt === null || summary.lastAt === null ? null : summary.lastAt - summary.firstAt,
        endReason: null,
        ended: summary.ended,
        outcome: null,
        crashes: 0,
        resumes: 0,
        damaged: null,
      };
      // A very long call is listed from its summary: drawing it is for its own page.
      const read = summary.records > MAX_DRAWN ? null : await this.#read(summary.callId);
      if (read && !read.ok) entry.damaged = read.code;
      else if (read) {
        const t = buildTimeline(read.records);
        entry.flow = t.flow ?? summary.flow;
        entry.flowVersion = t.flowVersion;
        entry.durationMs = t.durationMs;
        entry.endReason = t.endReason;
        entry.outcome = t.outcome;
        entry.crashes = t.crashes + t.interruptions;
        entry.resumes = t.restarts + t.resumes;
      }
      entries.push(entry);
    }
    // Newest first by when the call began; the store gives the most recently active.
    entries.sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0));
    return renderCallList(entries, `${store.kind} ${store.location}`, limit);
  }

  async #call(callId: string, read: Extract<Read, { ok: true }>): Promise<string> {
    const total = read.records.length;
    const timeline = buildTimeline(total > MAX_DRAWN ? read.records.slice(0, MAX_DRAWN) : read.records);
    const summary = await this.#opts.store.summary(callId);
    let diagram: CallView['diagram'];
    const compiled = timeline.flow === null ? undefined : this.#opts.flows.get(timeline.flow);
    if (timeline.flow === null) diagram = { missing: 'The journal has no start record naming its flow.' };
    else if (!compiled) diagram = { missing: `Flow ${timeline.flow} is not loaded here.` };
    else if (compiled.flow.version !== timeline.flowVersion) {
      diagram = {
        ...flowDiagram(compiled.flow, timeline.path),
        note: `The call ran ${timeline.flow} v${timeline.flowVersion}, which is not loaded here; drawn on the loaded v${compiled.flow.version}.`,
      };
    } else diagram = flowDiagram(compiled.flow, timeline.path);
    return renderCall({
      timeline,
      leaseToken: summary?.token ?? null,
      owner: summary?.owner ?? null,
      diagram,
      tornTail: read.tornTail,
      ...(total > MAX_DRAWN ? { cut: { shown: MAX_DRAWN, total } } : {}),
      recordings: await readRecordings(this.#opts.store, callId).catch((err: unknown) => {
        this.#opts.logger.warn('calls page: recordings cannot be read', { callId, err });
        return [];
      }),
    });
  }
}

/** Write the records as JSON lines a slice at a time, letting the event loop run between slices. */
async function sendLog(
  res: ServerResponse,
  records: JournalRecord[],
  headers: Record<string, string>,
): Promise<void> {
  res.writeHead(200, headers);
  if (res.req?.method === 'HEAD') {
    res.end();
    return;
  }
  for (let i = 0; i < records.length && !res.destroyed; i += LOG_SLICE) {
    const slice = records
      .slice(i, i + LOG_SLICE)
      .map((r) => encodeRecord(r) + '\n')
      .join('');
    if (!res.write(slice)) {
      await new Promise((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  res.end();
}

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** A file name made of the id's safe characters only, so the header cannot be broken out of. */
function safeFileName(callId: string): string {
  return callId.replace(/[^A-Za-z0-9._-]/g, '_');
}

function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  type: string,
  extra: Record<string, string>,
): void {
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { 'content-type': type, 'content-length': data.length, ...extra });
  res.end(res.req?.method === 'HEAD' ? undefined : data);
}
