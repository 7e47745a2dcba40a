/**
 * A call's Recordings: start one on a live call, pause, resume and stop it (by SID, or `Twilio.CURRENT` for the
 * latest one still running), list and fetch them. Its status callbacks (RecordingStatusCallbackEvent:
 * in-progress, completed) go out on the call's queue, so a recording stopped by the end of the call completes
 * after the call's own completion webhook.
 */
import { randomSid } from '../../../src/simulator/sid.ts';
import { enqueue, type CallState } from './call-state.ts';
import type { EventLog } from './events.ts';
import {
  API_VERSION,
  errorReply,
  eventSet,
  method,
  notFound,
  page,
  rfc2822,
  seconds,
  type Reply,
  type RouteRequest,
  type RouteSpec,
} from './resources.ts';
import type { FakeRecording } from './types.ts';
import type { WebhookSender } from './webhooks.ts';

export interface RecordingsOptions {
  accountSid: string;
  calls: ReadonlyMap<string, CallState>;
  events: EventLog;
  webhooks: WebhookSender;
}

export class Recordings {
  readonly #accountSid: string;
  readonly #calls: ReadonlyMap<string, CallState>;
  readonly #events: EventLog;
  readonly #webhooks: WebhookSender;

  constructor(options: RecordingsOptions) {
    this.#accountSid = options.accountSid;
    this.#calls = options.calls;
    this.#events = options.events;
    this.#webhooks = options.webhooks;
  }

  routes(): RouteSpec[] {
    return [
      { method: 'POST', path: '/Calls/{CA}/Recordings.json', handle: (r) => this.#create(r) },
      { method: 'GET', path: '/Calls/{CA}/Recordings.json', handle: (r) => this.#list(r) },
      { method: 'GET', path: '/Calls/{CA}/Recordings/{RE}.json', handle: (r) => this.#fetch(r) },
      { method: 'POST', path: '/Calls/{CA}/Recordings/{RE}.json', handle: (r) => this.#update(r) },
    ];
  }

  /** Stops the call's running and paused recordings (it ended); complete() each one after its last webhooks. */
  stopRunning(call: CallState): FakeRecording[] {
    const running = call.recordings.filter((r) => r.status === 'in-progress' || r.status === 'paused');
    for (const recording of running) stop(recording);
    return running;
  }

  /** A stopped recording is complete: its completed callback, when it asked for one. */
  async complete(call: CallState, recording: FakeRecording): Promise<void> {
    recording.status = 'completed';
    await this.#webhook(call, recording, 'completed');
  }

  #create({ sids: [sid], form }: RouteRequest): Reply {
    const call = this.#calls.get(sid ?? '');
    if (call === undefined) return notFound(sid);
    if (call.status !== 'in-progress') {
      return errorReply(400, 21220, 'Requested resource is not eligible for recording');
    }
    const now = new Date();
    const recording: FakeRecording = {
      sid: randomSid('RE'),
      callSid: call.sid,
      status: 'in-progress',
      channels: form.get('RecordingChannels') === 'dual' ? 2 : 1,
      statusCallback: form.get('RecordingStatusCallback'),
      statusCallbackMethod: method(form.get('RecordingStatusCallbackMethod')),
      events: eventSet(form, 'RecordingStatusCallbackEvent', ['completed']),
      createdAt: now,
      updatedAt: now,
      endedAt: null,
    };
    call.recordings.push(recording);
    void enqueue(call, this.#events, () => this.#webhook(call, recording, 'in-progress'));
    return { status: 201, body: this.#json(recording) };
  }

  #list({ sids: [sid], query, path }: RouteRequest): Reply {
    const call = this.#calls.get(sid ?? '');
    if (call === undefined) return notFound(sid);
    const recordings = [...call.recordings].reverse().map((r) => this.#json(r));
    return page(path, query, 'recordings', recordings);
  }

  /** The recording named in the path; `Twilio.CURRENT` is the call's latest one still running or paused. */
  #find(callSid: string | undefined, recordingSid: string | undefined): FakeRecording | undefined {
    const recordings = this.#calls.get(callSid ?? '')?.recordings ?? [];
    if (recordingSid === 'Twilio.CURRENT') {
      return recordings.findLast((r) => r.status === 'in-progress' || r.status === 'paused');
    }
    return recordings.find((r) => r.sid === recordingSid);
  }

  #fetch({ sids: [callSid, recordingSid] }: RouteRequest): Reply {
    const recording = this.#find(callSid, recordingSid);
    return recording === undefined ? notFound(recordingSid) : { status: 200, body: this.#json(recording) };
  }

  /** `Status=paused|in-progress|stopped`. */
  #update({ sids: [callSid, recordingSid], form }: RouteRequest): Reply {
    const recording = this.#find(callSid, recordingSid);
    const call = this.#calls.get(callSid ?? '');
    if (recording === undefined || call === undefined) return notFound(recordingSid);
    const status = form.get('Status');
    if (status !== 'paused' && status !== 'in-progress' && status !== 'stopped') {
      return errorReply(400, 20001, 'Status must be paused, in-progress or stopped');
    }
    if (recording.status === 'stopped' || recording.status === 'completed') {
      return errorReply(400, 21220, 'Recording is not in-progress or paused');
    }
    if (status === 'stopped') {
      stop(recording);
      void enqueue(call, this.#events, () => this.complete(call, recording));
    } else {
      recording.status = status;
      recording.updatedAt = new Date();
    }
    return { status: 200, body: this.#json(recording) };
  }

  async #webhook(call: CallState, recording: FakeRecording, status: string): Promise<void> {
    if (recording.statusCallback === null || !recording.events.has(status)) return;
    const params: Record<string, string> = {
      AccountSid: this.#accountSid,
      CallSid: call.sid,
      RecordingSid: recording.sid,
      RecordingUrl: `https://api.twilio.com/${API_VERSION}/Accounts/${this.#accountSid}/Recordings/${recording.sid}`,
      RecordingStatus: status,
      RecordingChannels: String(recording.channels),
      RecordingStartTime: rfc2822(recording.createdAt) ?? '',
      RecordingSource: 'StartCallRecordingAPI',
      RecordingTrack: 'both',
      ErrorCode: '0',
    };
    if (status === 'completed') {
      params.RecordingDuration = String(seconds(recording.createdAt, recording.endedAt ?? new Date()));
    }
    await this.#webhooks.send(
      call.sid,
      'recording',
      recording.statusCallback,
      recording.statusCallbackMethod,
      params,
    );
  }

  #json(recording: FakeRecording): Record<string, unknown> {
    const ended = recording.endedAt;
    return {
      sid: recording.sid,
      account_sid: this.#accountSid,
      api_version: API_VERSION,
      call_sid: recording.callSid,
      conference_sid: null,
      date_created: rfc2822(recording.createdAt),
      date_updated: rfc2822(recording.updatedAt),
      start_time: rfc2822(recording.createdAt),
      duration: ended === null ? '-1' : String(seconds(recording.createdAt, ended)),
      price: null,
      price_unit: 'USD',
      status: recording.status,
      channels: recording.channels,
      source: 'StartCallRecordingAPI',
      error_code: null,
      track: 'both',
      encryption_details: null,
      uri: `/${API_VERSION}/Accounts/${this.#accountSid}/Calls/${recording.callSid}/Recordings/${recording.sid}.json`,
    };
  }
}

function stop(recording: FakeRecording): void {
  recording.status = 'stopped';
  recording.endedAt = new Date();
  recording.updatedAt = recording.endedAt;
}
