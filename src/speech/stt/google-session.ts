/**
 * One recognition stream on Google Speech, following Google's "endless streaming" pattern: every frame since the
 * last final result stays in a bounded ring, and a new gRPC stream (opened before the ~5 minute limit, or after a
 * transient error) first re-sends that ring, so nothing the caller said is lost. Result times are mapped back to
 * the recognition stream's own timeline across restarts.
 */
import { SAMPLE_RATE } from '../../audio/frames.ts';
import { pcmToMulaw } from '../../audio/mulaw.ts';
import { SwitchboardError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import { grpcCodeName, grpcCodeOf } from '../google.ts';
import type { RecognitionRequest, RecognitionStream, SpeechActivityEvent } from './engine.ts';
import { durationMs } from './google-dialect.ts';
import type { Dialect, GrpcStream, StreamingResponse, StreamingSpeechClient } from './google-dialect.ts';
import { clientFailure, isTransient, sttFailure } from './google-errors.ts';
import { ResendRing } from './google-resend-ring.ts';
import type { Frame, RingTotals } from './google-resend-ring.ts';

const SAMPLES_PER_MS = SAMPLE_RATE / 1000;

/** A recognition stream of this engine: RecognitionStream plus what its bounded buffer had to give up. */
export interface GoogleSttStream extends RecognitionStream {
  /** Frames dropped before they were sent (audio Google never heard). */
  readonly droppedFrames: number;
  /** Frames pushed out of the re-send ring before a final result covered them. */
  readonly evictedFrames: number;
  /** gRPC streams opened so far (1 + restarts + retries). */
  readonly grpcStreams: number;
}

/** One gRPC stream: its handle and how its own audio timeline maps onto the recognition stream's. */
interface Leg {
  readonly duplex: GrpcStream;
  /** Samples sent on this leg, and of those, ones not re-sent from a previous leg. */
  sent: number;
  fresh: number;
  /** (leg sample, stream sample) at each discontinuity of the audio sent: exact times despite drops. */
  readonly map: { leg: number; stream: number }[];
  waitingDrain: boolean;
  halfClosed: boolean;
  dead: boolean;
}

/** What a stream needs of its engine. */
export interface SessionDeps {
  /** The shared client, loaded on first use. */
  client: () => Promise<StreamingSpeechClient>;
  dialect: Dialect;
  /** Samples one gRPC stream carries before it is replaced. */
  limitSamples: number;
  /** Samples the re-send ring keeps. */
  maxSamples: number;
  /** Transient failures retried in a row. */
  retries: number;
  logger: Logger | undefined;
  /** The engine's open streams, by their cancel function: a stream adds itself and removes itself when done. */
  streams: Set<() => void>;
  /** The engine was closed: the stream fails at once. */
  closed: boolean;
  /** What every stream's ring gave up, for the engine's counters. */
  totals: RingTotals;
}

/** Opens a recognition stream; see the file comment. */
export function openGoogleStream(deps: SessionDeps, req: RecognitionRequest): GoogleSttStream {
  const ring = new ResendRing(deps.maxSamples, deps.totals);
  const dialect = deps.dialect;
  const configRequest = dialect.configRequest(req.context);
  let client: StreamingSpeechClient | null = null;
  let leg: Leg | null = null;
  let legs = 0;
  let failuresInARow = 0;
  let written = 0;
  let stopped = false;
  let ending = false;
  // Text of Google's final results so far in this turn, and their confidences.
  const finals: string[] = [];
  const confidences: number[] = [];
  let finalEnd = 0;

  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    deps.streams.delete(cancel);
    detach();
    if (leg) kill(leg);
    leg = null;
  };
  const cancel = (): void => stop();
  deps.streams.add(cancel);
  let detach = noop;

  const kill = (l: Leg): void => {
    l.dead = true;
    l.duplex.removeAllListeners('data');
    // Errors of a stream given up on are expected (CANCELLED); keep a listener so none is unhandled.
    l.duplex.on('error', noop);
    l.duplex.cancel();
  };

  const fail = (err: unknown, detail: string): void => {
    if (stopped) return;
    const error = sttFailure(err, detail, ring.dropped);
    stop();
    req.onError(error);
  };

  const emitFinal = (): void => {
    if (stopped) return;
    const text = finals.join(' ').trim();
    const confidence =
      confidences.length > 0 ? confidences.reduce((a, b) => a + b, 0) / confidences.length : null;
    stop();
    req.onTranscript({
      text,
      final: true,
      confidence,
      startMs: 0,
      endMs: (finalEnd > 0 ? finalEnd : written) / SAMPLES_PER_MS,
    });
  };

  const open = (): void => {
    if (stopped || !client) return;
    let duplex: GrpcStream;
    try {
      duplex = client._streamingRecognize();
      duplex.write(configRequest);
    } catch (err) {
      fail(err, 'could not open a google speech stream');
      return;
    }
    legs++;
    const l: Leg = {
      duplex,
      sent: 0,
      fresh: 0,
      map: [],
      waitingDrain: false,
      halfClosed: false,
      dead: false,
    };
    leg = l;
    ring.sent = 0;
    duplex.on('data', (res: StreamingResponse) => {
      if (l.dead || stopped) return;
      if (res.error && res.error.code) {
        // A status inside a response: handled like the call failing with it.
        duplex.emit('error', { code: res.error.code, details: res.error.message });
        return;
      }
      failuresInARow = 0;
      onResponse(l, res);
    });
    duplex.on('error', (err: unknown) => {
      if (l.dead || stopped) return;
      kill(l);
      const code = grpcCodeOf(err);
      const codeName = grpcCodeName(code);
      if (isTransient(code) && failuresInARow < deps.retries) {
        failuresInARow++;
        deps.logger?.warn('google speech stream failed; retrying on a new stream', {
          grpcCode: code,
          attempt: failuresInARow,
          resendMs: ring.samples / SAMPLES_PER_MS,
        });
        open();
        return;
      }
      const tried = failuresInARow > 0 ? ` after ${failuresInARow} retries` : '';
      // Google's details can quote recognized speech: they stay out of the message and the log text.
      const details = (err as { details?: unknown } | null)?.details;
      deps.logger?.warn('google speech stream failed', { grpcCode: code, pii: { details } });
      fail(err, `google speech answered ${codeName}${tried}`);
    });
    duplex.on('end', () => {
      if (l.dead || stopped) return;
      // After our half-close, the end of the results: what was heard is the turn.
      if (l.halfClosed) emitFinal();
      else if (failuresInARow < deps.retries) {
        // Ended by the server while we still had audio to send: continue on a new stream, as after an error.
        failuresInARow++;
        kill(l);
        open();
      } else fail({ code: 14 }, 'google speech kept ending the stream early');
    });
    pump();
  };

  const restart = (): void => {
    const old = leg;
    if (old) kill(old);
    deps.logger?.debug('google speech stream restarted before its limit', {
      resendMs: ring.samples / SAMPLES_PER_MS,
    });
    open();
  };

  /** Sends what the ring holds beyond what this leg has, until the stream pushes back or a restart is due. */
  const pump = (): void => {
    const l = leg;
    if (!l || l.dead || stopped || l.halfClosed) return;
    while (!l.waitingDrain && ring.sent < ring.length) {
      if (l.sent >= deps.limitSamples && l.fresh * 2 >= deps.limitSamples) {
        // Before Google's limit, and only once half of it was new audio, so a long stretch without a final
        // result cannot make every frame restart.
        restart();
        return;
      }
      const frame = ring.at(ring.sent);
      const last = l.map[l.map.length - 1];
      if (!last || last.stream + (l.sent - last.leg) !== frame.at)
        l.map.push({ leg: l.sent, stream: frame.at });
      ring.sent++;
      l.sent += frame.mulaw.length;
      if (isFresh(frame)) l.fresh += frame.mulaw.length;
      // Copied: the ring keeps its frame for re-sending, while the stream may hold the buffer it was given.
      const ok = l.duplex.write(dialect.audioRequest(Buffer.from(frame.mulaw)));
      if (!ok) {
        l.waitingDrain = true;
        l.duplex.once('drain', () => {
          l.waitingDrain = false;
          pump();
        });
      }
    }
    if (ending && ring.sent === ring.length && !l.waitingDrain) halfClose(l);
  };

  // A frame is fresh on a leg when no earlier leg sent it: tracked by the highest sample ever sent.
  let highestSent = 0;
  const isFresh = (frame: Frame): boolean => {
    const end = frame.at + frame.mulaw.length;
    if (end <= highestSent) return false;
    highestSent = end;
    return true;
  };

  const halfClose = (l: Leg): void => {
    if (l.halfClosed) return;
    l.halfClosed = true;
    if (l.sent === 0) {
      // Nothing went up on this stream, so Google has nothing to add: the turn is what earlier results said.
      emitFinal();
      return;
    }
    l.duplex.end();
  };

  const toStream = (l: Leg, legSample: number): number => {
    let point = l.map[0] ?? { leg: 0, stream: 0 };
    for (const p of l.map) if (p.leg <= legSample) point = p;
    return point.stream + (legSample - point.leg);
  };

  // The last activity event reported: a restarted stream re-hearing re-sent audio must not report it again.
  let lastEvent: SpeechActivityEvent | null = null;
  const onSpeechEvent = (l: Leg, res: StreamingResponse): void => {
    const event = dialect.speechEvent(res);
    if (!event || !req.onSpeechEvent) return;
    const at = toStream(l, Math.round(durationMs(event.offset) * SAMPLES_PER_MS));
    const atMs = at / SAMPLES_PER_MS;
    if (lastEvent && (lastEvent.type === event.type || atMs < lastEvent.atMs)) return;
    lastEvent = { type: event.type, atMs };
    req.onSpeechEvent({ ...lastEvent });
  };

  const onResponse = (l: Leg, res: StreamingResponse): void => {
    onSpeechEvent(l, res);
    if (stopped) return;
    for (const result of res.results ?? []) {
      const alt = result.alternatives?.[0];
      const text = (alt?.transcript ?? '').trim();
      const end = toStream(l, Math.round(durationMs(dialect.resultEnd(result)) * SAMPLES_PER_MS));
      if (result.isFinal) {
        if (text) finals.push(text);
        if (typeof alt?.confidence === 'number' && text) confidences.push(alt.confidence);
        finalEnd = Math.max(finalEnd, end);
        // Covered by a final result: never re-sent. The leg keeps its own count of what it sent.
        ring.trimUntil(end);
        if (!l.halfClosed) {
          req.onTranscript({
            text: finals.join(' '),
            final: false,
            confidence: null,
            startMs: 0,
            endMs: end / SAMPLES_PER_MS,
          });
        }
      } else if (!ending) {
        req.onTranscript({
          text: [...finals, text].join(' ').trim(),
          final: false,
          confidence: null,
          startMs: finalEnd / SAMPLES_PER_MS,
          endMs: end / SAMPLES_PER_MS,
        });
      }
    }
  };

  const handle: GoogleSttStream = {
    write: (pcm) => {
      if (stopped || ending) return;
      const at = written;
      written += pcm.length;
      // pcmToMulaw writes a new array: the caller's frame is not kept.
      ring.push({ at, mulaw: pcmToMulaw(pcm) });
      pump();
    },
    endUtterance: () => {
      if (stopped || ending) return;
      ending = true;
      if (leg) pump();
      else if (client && ring.length === 0) emitFinal();
      // Still loading the client: open() sends what the ring holds, then pump() half-closes.
    },
    close: () => stop(),
    get droppedFrames() {
      return ring.dropped;
    },
    get evictedFrames() {
      return ring.evicted;
    },
    get grpcStreams() {
      return legs;
    },
  };

  if (deps.closed) {
    stopped = true;
    const err = new SwitchboardError('STT_FAILED', 'engine is closed');
    queueMicrotask(() => req.onError(err));
    return handle;
  }
  if (req.signal) {
    if (req.signal.aborted) {
      stop();
      return handle;
    }
    const onAbort = (): void => stop();
    req.signal.addEventListener('abort', onAbort, { once: true });
    detach = () => req.signal?.removeEventListener('abort', onAbort);
  }

  deps.client().then(
    (c) => {
      client = c;
      if (stopped) return;
      if (ending && ring.length === 0) emitFinal();
      else open();
    },
    (err: unknown) => {
      if (stopped) return;
      stop();
      req.onError(clientFailure(err));
    },
  );
  return handle;
}

function noop(): void {}
