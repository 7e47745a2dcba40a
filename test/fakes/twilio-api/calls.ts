/**
 * The Calls resource: create (validated as Twilio does, or failed as the test scripted per callee), list
 * (newest first; To, From, Status and StartTime filters), fetch, and update: `Status=completed|canceled` ends a
 * call, `Twiml` or `Url` redirects a live one. `Timeout` is kept in the call's params, not waited for. What
 * happens after a create is CallProgress's (placing.ts), as the callee's script says; successive calls to one
 * number may take successive outcomes (a busy line, then a human on the retry). A create can be held for a
 * crash test: dropped (never placed, never answered) or placed with its answer withheld (server.ts waits).
 */
import { randomSid } from '../../../src/simulator/sid.ts';
import type { CallState } from './call-state.ts';
import type { EventLog } from './events.ts';
import type { Numbers } from './numbers.ts';
import type { CallProgress } from './placing.ts';
import {
  API_VERSION,
  DROPPED,
  errorReply,
  eventSet,
  isHttpUrl,
  method,
  notFound,
  page,
  rfc2822,
  seconds,
  type Reply,
  type RouteRequest,
  type RouteSpec,
} from './resources.ts';
import type { FakeCallStatus, HeldCreateMode, ScriptedOutcome } from './types.ts';

const E164 = /^\+[0-9]{8,15}$/;
const DAY_MS = 86_400_000;

const TERMINAL: ReadonlySet<FakeCallStatus> = new Set([
  'completed',
  'busy',
  'no-answer',
  'failed',
  'canceled',
]);

export interface CallsOptions {
  accountSid: string;
  /** The calls, by SID; the fake's other parts read them here. */
  calls: Map<string, CallState>;
  progress: CallProgress;
  /** For a call's phone_number_sid: the account's number it is from. */
  numbers: Numbers;
  events: EventLog;
}

/** The outcomes scripted for one number, and which the next call takes (the last one repeats). */
interface Script {
  outcomes: readonly ScriptedOutcome[];
  next: number;
}

export class Calls {
  readonly #accountSid: string;
  readonly #calls: Map<string, CallState>;
  readonly #progress: CallProgress;
  readonly #numbers: Numbers;
  readonly #events: EventLog;
  readonly #scripts = new Map<string, Script>();
  readonly #createFailures = new Map<string, Reply>();
  /** Per number, how its next creates are held, one entry per create. */
  readonly #holds = new Map<string, HeldCreateMode[]>();

  constructor(options: CallsOptions) {
    this.#accountSid = options.accountSid;
    this.#calls = options.calls;
    this.#progress = options.progress;
    this.#numbers = options.numbers;
    this.#events = options.events;
  }

  routes(): RouteSpec[] {
    return [
      { method: 'POST', path: '/Calls.json', handle: (r) => this.#create(r) },
      { method: 'GET', path: '/Calls.json', handle: (r) => this.#list(r) },
      { method: 'GET', path: '/Calls/{CA}.json', handle: (r) => this.#fetch(r) },
      { method: 'POST', path: '/Calls/{CA}.json', handle: (r) => this.#update(r) },
    ];
  }

  /** What happens when `to` is dialled from now on (default: a human answers). */
  script(to: string, outcome: ScriptedOutcome): void {
    this.scriptSequence(to, [outcome]);
  }

  /** Successive calls to `to` from now on take successive outcomes; the last one repeats. */
  scriptSequence(to: string, outcomes: readonly ScriptedOutcome[]): void {
    if (outcomes.length === 0) throw new Error(`no outcomes scripted for ${to}`);
    this.#scripts.set(to, { outcomes: [...outcomes], next: 0 });
  }

  /** The next create for `to` (and only that one) is held, as `mode` says. */
  holdCreates(to: string, mode: HeldCreateMode): void {
    const holds = this.#holds.get(to) ?? [];
    holds.push(mode);
    this.#holds.set(to, holds);
  }

  /** Every call create for `to` fails with this Twilio error. */
  failCreate(to: string, status: number, code: number, message: string): void {
    this.#createFailures.set(to, errorReply(status, code, message));
  }

  /** The callee hangs up an answered call; resolves once the completion webhooks were sent. */
  async complete(callSid: string): Promise<void> {
    const call = this.#calls.get(callSid);
    if (call === undefined) throw new Error(`no call ${callSid}`);
    if (call.status !== 'in-progress') throw new Error(`call ${callSid} is ${call.status}, not in progress`);
    await this.#progress.end(call, 'completed');
  }

  /** A held create is held whatever its answer would be: a crash test means it to be lost, not checked. */
  #create({ form }: RouteRequest): Reply {
    const to = form.get('To') ?? '';
    const mode = this.#holds.get(to)?.shift();
    if (mode === 'drop') {
      this.#events.emit({ type: 'held', to, mode, callSid: null });
      return DROPPED;
    }
    const reply = this.#createCall(to, form);
    if (mode === undefined) return reply;
    const callSid = reply.status === 201 ? (reply.body as { sid: string }).sid : null;
    this.#events.emit({ type: 'held', to, mode, callSid });
    return { ...reply, withhold: mode };
  }

  #createCall(to: string, form: URLSearchParams): Reply {
    const from = form.get('From') ?? '';
    const url = form.get('Url');
    const twiml = form.get('Twiml');
    if (!E164.test(to)) return errorReply(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!E164.test(from)) {
      return errorReply(400, 21212, `The 'From' number ${from} is not a valid phone number.`);
    }
    if (url === null && twiml === null) return errorReply(400, 21205, 'Url parameter is required.');
    if (url !== null && !isHttpUrl(url)) return errorReply(400, 21205, `Url is not a valid URL: ${url}`);
    const failure = this.#createFailures.get(to);
    if (failure !== undefined) return failure;
    const now = new Date();
    const call: CallState = {
      sid: randomSid('CA'),
      to,
      from,
      params: form,
      url,
      method: method(form.get('Method')),
      inlineTwiml: url === null ? twiml : null,
      statusCallback: form.get('StatusCallback'),
      statusCallbackMethod: method(form.get('StatusCallbackMethod')),
      // Without StatusCallbackEvent Twilio reports only the end of the call.
      events: eventSet(form, 'StatusCallbackEvent', ['completed']),
      machineDetection: form.get('MachineDetection'),
      asyncAmd: form.get('AsyncAmd') === 'true',
      amdCallback: form.get('AsyncAmdStatusCallback'),
      amdCallbackMethod: method(form.get('AsyncAmdStatusCallbackMethod')),
      status: 'queued',
      answeredBy: null,
      twiml: [],
      recordings: [],
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      answeredAt: null,
      endedAt: null,
      sequence: 0,
      stop: new AbortController(),
      chain: Promise.resolve(),
    };
    this.#calls.set(call.sid, call);
    const script = this.#scripts.get(to);
    const scripted = script?.outcomes[Math.min(script.next++, script.outcomes.length - 1)] ?? 'human';
    void this.#progress.enqueue(call, () => this.#progress.place(call, scripted));
    return { status: 201, body: this.#json(call) };
  }

  #list({ query, path }: RouteRequest): Reply {
    const to = query.get('To');
    const from = query.get('From');
    const status = query.get('Status');
    const calls = [...this.#calls.values()]
      .reverse() // newest first, as Twilio lists them
      .filter((c) => (to === null || c.to === to) && (from === null || c.from === from))
      .filter((c) => (status === null || c.status === status) && startTimeMatches(c.startedAt, query))
      .map((c) => this.#json(c));
    return page(path, query, 'calls', calls);
  }

  #fetch({ sids: [sid] }: RouteRequest): Reply {
    const call = this.#calls.get(sid ?? '');
    return call === undefined ? notFound(sid) : { status: 200, body: this.#json(call) };
  }

  /** `Status=completed|canceled` ends the call; `Twiml` or `Url` replaces its TwiML (a redirect). */
  #update({ sids: [sid], form }: RouteRequest): Reply {
    const call = this.#calls.get(sid ?? '');
    if (call === undefined) return notFound(sid);
    const status = form.get('Status');
    const twiml = form.get('Twiml');
    const url = form.get('Url');
    if (status !== null && status !== 'completed' && status !== 'canceled') {
      return errorReply(400, 20001, 'Status must be canceled or completed');
    }
    if (url !== null && !isHttpUrl(url)) return errorReply(400, 21205, `Url is not a valid URL: ${url}`);
    if (TERMINAL.has(call.status)) return errorReply(400, 21220, 'Call is not in-progress. Cannot redirect.');
    if (status === null && call.status !== 'in-progress') {
      return errorReply(400, 21220, 'Call is not in-progress. Cannot redirect.');
    }
    if (form.has('StatusCallback')) call.statusCallback = form.get('StatusCallback');
    if (form.has('StatusCallbackMethod')) {
      call.statusCallbackMethod = method(form.get('StatusCallbackMethod'));
    }
    if (status === 'completed' || (status === 'canceled' && call.status !== 'in-progress')) {
      // Hanging up a call nobody answered yet cancels it.
      void this.#progress.end(call, call.status === 'in-progress' ? 'completed' : 'canceled');
    } else if (twiml !== null) {
      this.#progress.addTwiml(call, twiml);
    } else if (url !== null) {
      const redirectMethod = method(form.get('Method'));
      void this.#progress.enqueue(call, async () => {
        await this.#progress.fetchTwiml(call, url, redirectMethod);
      });
    }
    call.updatedAt = new Date();
    return { status: 200, body: this.#json(call) };
  }

  #json(call: CallState): Record<string, unknown> {
    const uri = `/${API_VERSION}/Accounts/${this.#accountSid}/Calls/${call.sid}`;
    const duration =
      call.endedAt === null
        ? null
        : String(call.answeredAt === null ? 0 : seconds(call.answeredAt, call.endedAt));
    return {
      sid: call.sid,
      account_sid: this.#accountSid,
      api_version: API_VERSION,
      date_created: rfc2822(call.createdAt),
      date_updated: rfc2822(call.updatedAt),
      parent_call_sid: null,
      to: call.to,
      to_formatted: call.to,
      from: call.from,
      from_formatted: call.from,
      phone_number_sid: this.#numbers.sidOf(call.from),
      status: call.status,
      start_time: rfc2822(call.startedAt),
      end_time: rfc2822(call.endedAt),
      duration,
      price: null,
      price_unit: 'USD',
      direction: 'outbound-api',
      answered_by: call.answeredBy,
      forwarded_from: null,
      group_sid: null,
      caller_name: null,
      queue_time: '0',
      trunk_sid: null,
      uri: `${uri}.json`,
      subresource_uris: {
        recordings: `${uri}/Recordings.json`,
        notifications: `${uri}/Notifications.json`,
        events: `${uri}/Events.json`,
        streams: `${uri}/Streams.json`,
      },
    };
  }
}

/** StartTime (that day), StartTime> (on or after) and StartTime< (on or before); dates or date-times. */
function startTimeMatches(startedAt: Date | null, query: URLSearchParams): boolean {
  const on = query.get('StartTime');
  const after = query.get('StartTime>');
  const before = query.get('StartTime<');
  if (on === null && after === null && before === null) return true;
  if (startedAt === null) return false;
  const t = Math.floor(startedAt.getTime() / 1000) * 1000;
  const bound = (value: string, end: boolean) =>
    /^\d{4}-\d{2}-\d{2}$/.test(value)
      ? Date.parse(`${value}T00:00:00Z`) + (end ? DAY_MS : 0)
      : Date.parse(value) + (end ? 1 : 0);
  if (on !== null && !(t >= bound(on, false) && t < bound(on, true))) return false;
  if (after !== null && !(t >= bound(after, false))) return false;
  return before === null || t < bound(before, true);
}
