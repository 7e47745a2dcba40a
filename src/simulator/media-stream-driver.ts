/**
 * The caller's side of one Twilio media stream over a websocket: sends connected/start/media in real time, presses
 * keys and speaks when the agent has finished speaking (or talks over it), "plays" the agent's audio in real time
 * and echoes each mark when the audio before it has played, and honours `clear`.
 */
import WebSocket from 'ws';
import { FRAME_BYTES, FRAME_MS, MULAW_SILENCE } from '../audio/index.ts';
import { InboundEncoder, parseOutbound } from '../telephony/media-streams.ts';
import { signTwilioRequest } from '../telephony/signature.ts';
import type { CallRecord } from './call-record.ts';
import { randomSid } from './sid.ts';

export type CallerInput =
  | { kind: 'dtmf'; keys: string }
  /** The caller says `text`: `audio` (8 kHz mu-law, e.g. synthesized) is streamed in real time. */
  | { kind: 'speech'; text: string; audio: Uint8Array };

/** What the media stream adds to the call's timeline; the call adds its prompts read out and its hang-up. */
export type StreamEvent =
  /**
   * A stretch of agent audio, up to `mark` ('' when it was cleared before its mark was sent); `audio` is the
   * part the caller heard (8 kHz mu-law).
   */
  | { t: number; kind: 'agent'; mark: string; durationMs: number; interrupted: boolean; audio: Uint8Array }
  | { t: number; kind: 'dtmf'; keys: string }
  | { t: number; kind: 'speech'; text: string; durationMs: number; bargeIn: boolean }
  | { t: number; kind: 'stream'; event: 'open' | 'closed'; code?: number }
  /** The agent stopped its audio (Twilio's `clear`), as after the caller talked over it. */
  | { t: number; kind: 'clear' };

/** The call a stream belongs to, as the stream sees it. */
export interface StreamCall {
  readonly callSid: string;
  readonly accountSid: string;
  readonly options: {
    readonly authToken?: string | null | undefined;
    readonly signal?: AbortSignal | undefined;
    readonly thinkMs: number;
    readonly keyGapMs: number;
    readonly bargeInAfterMs: number | null;
    readonly idleHangupMs: number;
    readonly maxDurationMs: number;
  };
  readonly record: CallRecord;
  /** Ms since the call started. */
  now(): number;
  emit(event: StreamEvent): void;
  /** The call was hung up, by the agent (the server closed the stream) or by the caller. */
  hangup(by: 'agent' | 'caller'): void;
  /** The input the caller would give now, without using it up. */
  nextInput(): CallerInput | undefined;
  takeInput(): CallerInput | undefined;
}

const SILENCE_PAYLOAD = Buffer.alloc(FRAME_BYTES, MULAW_SILENCE).toString('base64');

/** One media stream; resolves true when the server closed it (so Twilio would follow the action URL). */
export function driveStream(
  call: StreamCall,
  streamUrl: string,
  parameters: Record<string, string>,
): Promise<boolean> {
  const headers: Record<string, string> = {};
  if (call.options.authToken)
    headers['x-twilio-signature'] = signTwilioRequest(call.options.authToken, streamUrl, {});
  const ws = new WebSocket(streamUrl, { headers, perMessageDeflate: false });
  const enc = new InboundEncoder({
    streamSid: randomSid('MZ'),
    callSid: call.callSid,
    accountSid: call.accountSid,
  });
  const o = call.options;
  const rec = call.record;

  return new Promise<boolean>((resolve, reject) => {
    let startAt = 0;
    let framesSent = 0;
    let playEnd = 0; // ms (call clock) when the audio received so far will have played
    /** The agent's current stretch of audio: when it started, its frames, and where they begin in #heard. */
    let segment: { start: number; frames: number; first: number } | null = null;
    const pendingMarks: { name: string; timer: NodeJS.Timeout }[] = [];
    let lastAgentActivity = 0;
    let busyInput = false;
    let heardSinceInput = false;
    let ended = false;
    let hungUp = false;

    const send = (text: string): void => {
      if (ws.readyState === WebSocket.OPEN) ws.send(text);
    };
    const agentIdle = (): boolean => pendingMarks.length === 0 && playEnd <= call.now();

    /** What the caller is saying: its audio and how much of it has been sent. */
    let speaking: { audio: Uint8Array; sent: number } | null = null;
    /** The agent segment last talked over, so each prompt is interrupted once. */
    let bargedInto: number | null = null;

    const nextPayload = (): string => {
      if (speaking === null) return SILENCE_PAYLOAD;
      const frame = Buffer.alloc(FRAME_BYTES, MULAW_SILENCE);
      frame.set(speaking.audio.subarray(speaking.sent, speaking.sent + FRAME_BYTES));
      speaking.sent += FRAME_BYTES;
      if (speaking.sent >= speaking.audio.length) {
        speaking = null;
        busyInput = false;
        lastAgentActivity = call.now();
        rec.inputEndedAt = lastAgentActivity;
      }
      return frame.toString('base64');
    };

    const ticker = setInterval(() => {
      if (startAt === 0) return; // not connected yet
      // Real-time audio from the caller's side (silence unless speaking), caught up by elapsed time so there
      // is no drift.
      const due = Math.floor((call.now() - startAt) / FRAME_MS);
      while (framesSent < due) {
        send(enc.media(nextPayload(), framesSent * FRAME_MS));
        framesSent += 1;
      }
      const next = call.nextInput();
      if (
        o.bargeInAfterMs !== null &&
        !busyInput &&
        next?.kind === 'speech' &&
        segment !== null &&
        segment.start !== bargedInto &&
        call.now() - segment.start >= o.bargeInAfterMs
      ) {
        bargedInto = segment.start;
        void act(true);
      }
      if (!busyInput && agentIdle() && call.now() - lastAgentActivity >= o.thinkMs) {
        // Like a person, answer only once the agent has said something since our last input.
        if (call.nextInput() !== undefined) {
          if (heardSinceInput) void act();
        } else if (heardSinceInput && call.now() - lastAgentActivity >= o.idleHangupMs) hangUp();
      }
      if (call.now() > o.maxDurationMs) hangUp();
    }, FRAME_MS);

    const act = async (bargeIn = false): Promise<void> => {
      const input = call.takeInput();
      if (!input) return;
      busyInput = true;
      heardSinceInput = false;
      if (input.kind === 'speech') {
        const durationMs = (input.audio.length / FRAME_BYTES) * FRAME_MS;
        call.emit({ t: call.now(), kind: 'speech', text: input.text, durationMs, bargeIn });
        speaking = { audio: input.audio, sent: 0 };
        return;
      }
      call.emit({ t: call.now(), kind: 'dtmf', keys: input.keys });
      for (const [i, key] of [...input.keys].entries()) {
        send(enc.dtmf(key));
        // The agent may answer the last key before the caller's pause after it is over.
        if (i === input.keys.length - 1) rec.inputEndedAt = call.now();
        await new Promise((r) => setTimeout(r, o.keyGapMs));
      }
      lastAgentActivity = call.now();
      busyInput = false;
    };

    const hangUp = (): void => {
      if (hungUp || ended) return;
      hungUp = true;
      call.hangup('caller');
      send(enc.stop());
      ws.close(1000, 'caller hung up');
    };

    /** Closes the agent's current stretch of audio in the timeline: what of it played, up to `mark`. */
    const endSegment = (mark: string, interrupted: boolean): void => {
      if (!segment) return;
      const sent = segment.frames * FRAME_MS;
      // Cut short, only the part up to now was heard.
      const now = call.now();
      const durationMs = interrupted ? Math.min(sent, Math.max(0, now - segment.start)) : sent;
      const frames = rec.heard.slice(segment.first).filter((h) => !interrupted || h.at < now);
      const audio = Buffer.concat(frames.map((h) => h.frame));
      call.emit({ t: segment.start, kind: 'agent', mark, durationMs, interrupted, audio });
      segment = null;
    };

    const echo = (name: string, interrupted: boolean): void => {
      send(enc.mark(name));
      rec.marks.push(name);
      endSegment(name, interrupted);
      heardSinceInput = true;
      lastAgentActivity = call.now();
    };

    const onMessage = (data: Buffer): void => {
      const msg = parseOutbound(data);
      const now = call.now();
      if (msg.event === 'media') {
        if (rec.firstMediaMs === null) rec.firstMediaMs = now - startAt;
        // The first frame of a new stretch answers the input; a prompt still playing over it does not.
        if (rec.inputEndedAt !== null && segment === null) {
          rec.replyMs.push(now - rec.inputEndedAt);
          rec.inputEndedAt = null;
        }
        const frameStart = Math.max(playEnd, now);
        playEnd = frameStart + FRAME_MS;
        segment ??= { start: frameStart, frames: 0, first: rec.heard.length };
        segment.frames += 1;
        rec.heard.push({ at: frameStart, frame: Buffer.from(msg.media.payload, 'base64') });
        lastAgentActivity = now;
      } else if (msg.event === 'mark') {
        const name = msg.mark.name;
        const timer = setTimeout(
          () => {
            pendingMarks.splice(
              pendingMarks.findIndex((m) => m.name === name),
              1,
            );
            echo(name, false);
          },
          Math.max(0, playEnd - now),
        );
        pendingMarks.push({ name, timer });
      } else {
        // clear: drop what has not played and echo every pending mark at once, as Twilio does.
        call.emit({ t: now, kind: 'clear' });
        playEnd = now;
        for (const { name, timer } of pendingMarks.splice(0)) {
          clearTimeout(timer);
          echo(name, true);
        }
        // Audio whose mark had not been sent yet (a prompt's first sentences) stops here too.
        endSegment('', true);
        rec.heard.splice(0, rec.heard.length, ...rec.heard.filter((h) => h.at < now));
      }
    };

    ws.on('open', () => {
      call.emit({ t: call.now(), kind: 'stream', event: 'open' });
      send(enc.connected());
      // The clock starts before the send, so the time to first media includes writing `start` to the socket.
      startAt = call.now();
      send(enc.start(parameters));
      lastAgentActivity = startAt;
    });
    ws.on('message', (data: Buffer) => {
      try {
        onMessage(data);
      } catch (err) {
        finish(err as Error);
      }
    });
    ws.on('unexpected-response', (_req, res) => finish(new Error(`stream refused: HTTP ${res.statusCode}`)));
    ws.on('error', (err) => finish(err));
    ws.on('close', (code) => {
      rec.closeCode = code;
      // The agent ending the stream is its hang-up, which the timeline shows before the close it caused.
      if (!hungUp) call.hangup('agent');
      call.emit({ t: call.now(), kind: 'stream', event: 'closed', code });
      finish(null);
    });
    o.signal?.addEventListener('abort', () => hangUp(), { once: true });

    const finish = (err: Error | null): void => {
      if (ended) return;
      ended = true;
      clearInterval(ticker);
      for (const m of pendingMarks) clearTimeout(m.timer);
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
      if (err) reject(err);
      else resolve(!hungUp);
    };
  });
}
