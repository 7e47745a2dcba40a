/**
 * Speech-to-text with Google Cloud Speech streaming recognition (v1, or v2 with `api: 'v2'`) through the official
 * client (@google-cloud/speech), loaded lazily on the first stream so a server that never uses it starts as fast.
 *
 * Phone audio goes up as 8 kHz mu-law (v1: `model: 'phone_call'`, enhanced; v2: `model: 'telephony'` through the
 * project's default recognizer `_`) with the flow's phrases as hints. The two APIs differ only in a small dialect
 * (first message, audio message, result end time, speech events); everything else below is shared. A gRPC
 * stream may carry only about 5 minutes of audio, and transient failures happen, so this follows Google's
 * "endless streaming" pattern: every frame since the last final result stays in a bounded ring, and a new gRPC
 * stream (opened before the limit, or after a transient error) first re-sends that ring, so nothing the caller
 * said is lost. Result times are mapped back to the recognition stream's own timeline across restarts.
 *
 * Used per turn like the embedded engine: Google's final results before endUtterance() are joined (and reported
 * as interim transcripts), and endUtterance() half-closes the stream and emits exactly one final transcript.
 */
import type { Duplex } from 'node:stream';
import type * as SpeechPackage from '@google-cloud/speech';
import type { ClientOptions } from 'google-gax';
import { pcmToMulaw } from '../../audio/mulaw.ts';
import { SwitchboardError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import {
  googleClientOptions,
  LazyClient,
  grpcCodeName,
  grpcCodeOf,
  RETRYABLE_GRPC_CODES,
  type GoogleEndpoint,
} from '../google.ts';
import type {
  ListenContext,
  RecognitionRequest,
  RecognitionStream,
  SpeechActivityEvent,
  SttEngine,
} from './engine.ts';

export interface GoogleSttOptions {
  /**
   * A plaintext gRPC endpoint (an emulator or a test fake; GOOGLE_API_ENDPOINT). With it, no credentials are
   * looked up; without it, the client talks TLS to Google with Application Default Credentials.
   */
  endpoint?: GoogleEndpoint;
  /** Speech API version; 'v1' unless given. v2 needs `project`. */
  api?: 'v1' | 'v2';
  /** Google Cloud project of the v2 recognizer (GOOGLE_CLOUD_PROJECT); required for v2, unused by v1. */
  project?: string;
  /** Location of the v2 recognizer; 'global' unless given. Unused by v1. */
  location?: string;
  /** BCP-47 language; 'en-US' unless given. A ListenContext's `language` overrides it per stream. */
  languageCode?: string;
  /** Recognition model; 'phone_call' (v1) or 'telephony' (v2) unless given. */
  model?: string;
  /** Audio one gRPC stream carries before it is replaced; 290 s unless given (Google stops at about 305 s). */
  streamLimitMs?: number;
  /** Audio kept for re-sending (unsent or not yet covered by a final result); 10 s unless given. */
  maxBufferedMs?: number;
  /** Transient gRPC failures retried in a row on a new stream; 2 unless given. */
  retries?: number;
  logger?: Logger;
}

/** Google's limits on phrase hints. */
export const GOOGLE_STT_MAX_PHRASES = 5000;
export const GOOGLE_STT_MAX_PHRASE_CHARS = 100;

const SAMPLES_PER_MS = 8;
const DIGIT_SEQUENCE_CLASS = '$OOV_CLASS_DIGIT_SEQUENCE';
/** Boost of a closed question's phrases: strong, since the caller is expected to say one of them. */
const CLOSED_BOOST = 10;

/** OUT_OF_RANGE is how Google ends a stream past its duration limit: a new stream (counted as a retry) fixes it. */
const OUT_OF_RANGE = 11;

/**
 * The part of the client used here. Its `streamingRecognize()` helper wraps the call in a pumpify stream whose
 * destroy() leaves the gRPC call open (a restart would leak one HTTP/2 stream each time, checked against the
 * fake) and hangs when ended before any audio; the underlying `_streamingRecognize()` it wraps can be cancelled,
 * so it is used directly, writing `{ streamingConfig }` first and then `{ audioContent }` as the helper does.
 */
interface GrpcStream extends Duplex {
  cancel(): void;
}
interface StreamingSpeechClient {
  _streamingRecognize(options?: unknown): GrpcStream;
  close(): Promise<void>;
}

/**
 * A StreamingRecognizeResponse of either API as the client decodes it (int64 seconds may arrive as string or
 * Long; enums as names). v1 has `error` and `resultEndTime`; v2 `resultEndOffset` and `speechEventOffset`.
 */
interface StreamingResponse {
  error?: { code?: number | null; message?: string | null } | null;
  results?: StreamingResult[];
  speechEventType?: string | number | null;
  speechEventOffset?: Duration | null;
}

interface StreamingResult {
  alternatives?: { transcript?: string | null; confidence?: number | null }[] | null;
  isFinal?: boolean | null;
  resultEndTime?: Duration | null;
  resultEndOffset?: Duration | null;
}

/** Where the two API versions differ; the rest of the engine is shared. */
interface Dialect {
  /** The client of this version, from the loaded module. */
  client(mod: SpeechModule, options: ClientOptions): StreamingSpeechClient;
  /** The first message of every gRPC stream of a recognition stream. */
  configRequest(context: ListenContext): unknown;
  audioRequest(audio: Buffer): unknown;
  resultEnd(result: StreamingResult): Duration | null | undefined;
  /** A voice activity event in a response, with its offset on that gRPC stream's audio; null when none. */
  speechEvent(res: StreamingResponse): { type: SpeechActivityEvent['type']; offset: Duration | null } | null;
}

type SpeechModule = typeof SpeechPackage;
type ClientConstructor = new (options: ClientOptions) => StreamingSpeechClient;

interface Duration {
  seconds?: number | string | { toNumber(): number } | null;
  nanos?: number | null;
}

/** One frame of mu-law audio and where it lies on the recognition stream's timeline (in samples). */
interface Frame {
  at: number;
  mulaw: Uint8Array;
}

/** The re-send ring: frames since the last final result, oldest first; bounded by samples. */
export class ResendRing {
  readonly #max: number;
  #frames: Frame[] = [];
  #head = 0;
  #samples = 0;
  /** Frames of the ring already sent on the current gRPC stream (counted from the head). */
  sent = 0;
  /** Frames dropped before they were ever sent: audio Google never heard. */
  dropped = 0;
  /** Frames sent once but pushed out before a final result covered them: lost only if a restart follows. */
  evicted = 0;

  constructor(maxSamples: number) {
    this.#max = maxSamples;
  }

  get length(): number {
    return this.#frames.length - this.#head;
  }

  get samples(): number {
    return this.#samples;
  }

  at(i: number): Frame {
    return this.#frames[this.#head + i]!;
  }

  push(frame: Frame): void {
    this.#frames.push(frame);
    this.#samples += frame.mulaw.length;
    while (this.#samples > this.#max && this.length > 1) this.#shift(true);
  }

  /** Forget every frame that ends at or before `sample`: a final result covers it. */
  trimUntil(sample: number): void {
    while (this.length > 0) {
      const f = this.at(0);
      if (f.at + f.mulaw.length > sample) break;
      this.#shift(false);
    }
  }

  #shift(overflow: boolean): void {
    const f = this.#frames[this.#head++]!;
    this.#samples -= f.mulaw.length;
    if (this.sent > 0) {
      this.sent--;
      if (overflow) this.evicted++;
    } else if (overflow) this.dropped++;
    // Compact now and then, so the array does not grow for the whole stream.
    if (this.#head > 1024 && this.#head * 2 > this.#frames.length) {
      this.#frames = this.#frames.slice(this.#head);
      this.#head = 0;
    }
  }
}

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

export class GoogleStt implements SttEngine {
  readonly name = 'google';
  readonly #endpoint: GoogleEndpoint;
  readonly #api: 'v1' | 'v2';
  readonly #location: string;
  readonly #dialect: Dialect;
  readonly #limitSamples: number;
  readonly #maxSamples: number;
  readonly #retries: number;
  readonly #logger: Logger | undefined;
  readonly #client = new LazyClient(() => this.#createClient());
  #closed = false;
  readonly #streams = new Set<() => void>();

  constructor(options: GoogleSttOptions = {}) {
    const streamLimitMs = options.streamLimitMs ?? 290_000;
    const maxBufferedMs = options.maxBufferedMs ?? 10_000;
    const retries = options.retries ?? 2;
    if (!(streamLimitMs >= 100) || !Number.isFinite(streamLimitMs)) {
      throw new SwitchboardError('CONFIG_INVALID', 'google stt streamLimitMs must be at least 100', {
        streamLimitMs,
      });
    }
    if (!(maxBufferedMs >= 20) || !Number.isFinite(maxBufferedMs)) {
      throw new SwitchboardError('CONFIG_INVALID', 'google stt maxBufferedMs must be at least 20', {
        maxBufferedMs,
      });
    }
    if (!Number.isInteger(retries) || retries < 0 || retries > 10) {
      throw new SwitchboardError('CONFIG_INVALID', 'google stt retries must be an integer from 0 to 10', {
        retries,
      });
    }
    const endpoint = options.endpoint ?? null;
    if (endpoint && (!endpoint.host || !Number.isInteger(endpoint.port) || endpoint.port < 1)) {
      throw new SwitchboardError('CONFIG_INVALID', 'google stt endpoint needs a host and a port', {
        endpoint,
      });
    }
    const api = options.api ?? 'v1';
    if (api !== 'v1' && api !== 'v2') {
      throw new SwitchboardError('CONFIG_INVALID', 'google stt api must be v1 or v2', { api });
    }
    const location = options.location ?? 'global';
    const project = options.project?.trim() ?? '';
    if (api === 'v2') {
      // Path segments of the recognizer's resource name: a slash or space would name another resource.
      if (!/^[A-Za-z0-9._:-]+$/.test(project)) {
        throw new SwitchboardError(
          'CONFIG_INVALID',
          'google stt v2 needs the Google Cloud project of its recognizer (GOOGLE_CLOUD_PROJECT)',
          { project: options.project ?? null },
        );
      }
      if (!/^[a-z0-9-]+$/.test(location)) {
        throw new SwitchboardError(
          'CONFIG_INVALID',
          'google stt location must be a location id such as global',
          {
            location,
          },
        );
      }
    }
    this.#endpoint = endpoint;
    this.#api = api;
    this.#location = location;
    const languageCode = options.languageCode ?? 'en-US';
    this.#dialect =
      api === 'v2'
        ? v2Dialect(
            `projects/${project}/locations/${location}/recognizers/_`,
            options.model ?? 'telephony',
            languageCode,
          )
        : v1Dialect(options.model ?? 'phone_call', languageCode);
    this.#limitSamples = Math.round(streamLimitMs * SAMPLES_PER_MS);
    this.#maxSamples = Math.round(maxBufferedMs * SAMPLES_PER_MS);
    this.#retries = retries;
    this.#logger = options.logger;
  }

  stream(req: RecognitionRequest): GoogleSttStream {
    const ring = new ResendRing(this.#maxSamples);
    const dialect = this.#dialect;
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
      this.#streams.delete(cancel);
      detach();
      if (leg) kill(leg);
      leg = null;
    };
    const cancel = (): void => stop();
    this.#streams.add(cancel);
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
      const grpcCode = grpcCodeOf(err);
      const retryable = grpcCode !== undefined && RETRYABLE_GRPC_CODES.has(grpcCode);
      stop();
      req.onError(
        new SwitchboardError(
          'STT_FAILED',
          detail,
          { grpcCode, retryable, droppedFrames: ring.dropped },
          { cause: err },
        ),
      );
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
        const transient = code !== undefined && (RETRYABLE_GRPC_CODES.has(code) || code === OUT_OF_RANGE);
        if (transient && failuresInARow < this.#retries) {
          failuresInARow++;
          this.#logger?.warn('google speech stream failed; retrying on a new stream', {
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
        this.#logger?.warn('google speech stream failed', { grpcCode: code, pii: { details } });
        fail(err, `google speech answered ${codeName}${tried}`);
      });
      duplex.on('end', () => {
        if (l.dead || stopped) return;
        // After our half-close, the end of the results: what was heard is the turn.
        if (l.halfClosed) emitFinal();
        else if (failuresInARow < this.#retries) {
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
      this.#logger?.debug('google speech stream restarted before its limit', {
        resendMs: ring.samples / SAMPLES_PER_MS,
      });
      open();
    };

    /** Sends what the ring holds beyond what this leg has, until the stream pushes back or a restart is due. */
    const pump = (): void => {
      const l = leg;
      if (!l || l.dead || stopped || l.halfClosed) return;
      while (!l.waitingDrain && ring.sent < ring.length) {
        if (l.sent >= this.#limitSamples && l.fresh * 2 >= this.#limitSamples) {
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

    if (this.#closed) {
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

    this.#client.get().then(
      (c) => {
        client = c;
        if (stopped) return;
        if (ending && ring.length === 0) emitFinal();
        else open();
      },
      (err: unknown) => {
        if (stopped) return;
        stop();
        req.onError(
          err instanceof SwitchboardError
            ? err
            : new SwitchboardError('STT_UNAVAILABLE', 'google speech client failed', {}, { cause: err }),
        );
      },
    );
    return handle;
  }

  async #createClient(): Promise<StreamingSpeechClient> {
    try {
      const mod = await import('@google-cloud/speech');
      const options = await googleClientOptions(this.#endpoint);
      // v2 recognizers outside `global` are served only by their region's endpoint.
      if (!this.#endpoint && this.#api === 'v2' && this.#location !== 'global') {
        options.apiEndpoint = `${this.#location}-speech.googleapis.com`;
      }
      return this.#dialect.client(mod, options);
    } catch (err) {
      // Not kept by LazyClient: the next stream tries again.
      throw new SwitchboardError(
        'STT_UNAVAILABLE',
        'could not load the google speech client',
        {},
        { cause: err },
      );
    }
  }

  /** Cancels every open stream and closes the client; later streams fail. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const cancel of [...this.#streams]) cancel();
    await this.#client.close();
  }
}

/**
 * The phrase hints of a listen context: a closed question's expected phrases, boosted, or an open question's
 * domain, within Google's limits (longer phrases are left out rather than cut into something never said).
 */
export function speechContexts(context: ListenContext): { phrases: string[]; boost?: number }[] {
  const source = context.kind === 'closed' ? context.phrases : context.domain;
  const seen = new Set<string>();
  // Google's class token for a digit string, so "seven" is written 7 rather than "heaven" or 10.
  if (context.numbers === 'digits') seen.add(DIGIT_SEQUENCE_CLASS);
  for (const raw of source) {
    const phrase = raw.trim();
    if (phrase === '' || phrase.length > GOOGLE_STT_MAX_PHRASE_CHARS) continue;
    seen.add(phrase);
    if (seen.size >= GOOGLE_STT_MAX_PHRASES) break;
  }
  if (seen.size === 0) return [];
  const phrases = [...seen];
  return [context.kind === 'closed' ? { phrases, boost: CLOSED_BOOST } : { phrases }];
}

/** v1: `{ streamingConfig }` first, then `{ audioContent }`; results end at `resultEndTime`; no events asked for. */
function v1Dialect(model: string, defaultLanguage: string): Dialect {
  return {
    client: (mod, options) => {
      const Client = (mod.SpeechClient ?? mod.default.SpeechClient) as unknown as ClientConstructor;
      return new Client(options);
    },
    configRequest: (context) => ({
      streamingConfig: {
        config: {
          encoding: 'MULAW',
          sampleRateHertz: 8000,
          languageCode: context.language ?? defaultLanguage,
          model,
          useEnhanced: true,
          speechContexts: speechContexts(context),
        },
        interimResults: true,
        singleUtterance: false,
      },
    }),
    audioRequest: (audio) => ({ audioContent: audio }),
    resultEnd: (result) => result.resultEndTime,
    speechEvent: () => null,
  };
}

/**
 * v2: `{ recognizer, streamingConfig }` first (the client's streamingRecognize() helper sends no recognizer, so
 * the raw call is used as for v1), then `{ audio }`; results end at `resultEndOffset`; voice activity events on.
 */
function v2Dialect(recognizer: string, model: string, defaultLanguage: string): Dialect {
  return {
    client: (mod, options) => {
      const v2 = mod.v2 ?? mod.default.v2;
      return new (v2.SpeechClient as unknown as ClientConstructor)(options);
    },
    configRequest: (context) => {
      const phrases = speechContexts(context).flatMap((c) =>
        c.phrases.map((value) => (c.boost === undefined ? { value } : { value, boost: c.boost })),
      );
      return {
        recognizer,
        streamingConfig: {
          config: {
            explicitDecodingConfig: { encoding: 'MULAW', sampleRateHertz: 8000, audioChannelCount: 1 },
            model,
            languageCodes: [context.language ?? defaultLanguage],
            // Only the first alternative is read.
            features: { maxAlternatives: 1 },
            ...(phrases.length > 0 ? { adaptation: { phraseSets: [{ inlinePhraseSet: { phrases } }] } } : {}),
          },
          streamingFeatures: { interimResults: true, enableVoiceActivityEvents: true },
        },
      };
    },
    audioRequest: (audio) => ({ audio }),
    resultEnd: (result) => result.resultEndOffset,
    speechEvent: (res) => {
      const type = res.speechEventType;
      if (type === 'SPEECH_ACTIVITY_BEGIN' || type === 2) {
        return { type: 'speech-begin', offset: res.speechEventOffset ?? null };
      }
      if (type === 'SPEECH_ACTIVITY_END' || type === 3) {
        return { type: 'speech-end', offset: res.speechEventOffset ?? null };
      }
      return null;
    },
  };
}

/** A protobuf Duration in ms; int64 seconds may be a number, a string or a Long. */
function durationMs(d: Duration | null | undefined): number {
  if (!d) return 0;
  const raw = d.seconds ?? 0;
  const seconds = typeof raw === 'object' ? raw.toNumber() : Number(raw);
  return (Number.isFinite(seconds) ? seconds : 0) * 1000 + (d.nanos ?? 0) / 1e6;
}

function noop(): void {}
