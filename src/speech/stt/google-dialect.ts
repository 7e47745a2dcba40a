/**
 * What goes over the wire to Google Speech: the client surface used, the response shapes, the two API
 * dialects (v1 and v2 differ in the first message, the audio message, result end time and speech events), and
 * the phrase hints built from a listen context.
 */
import type { Duplex } from 'node:stream';
import type * as SpeechPackage from '@google-cloud/speech';
import type { ClientOptions } from 'google-gax';
import { SAMPLE_RATE } from '../../audio/frames.ts';
import type { ListenContext, SpeechActivityEvent } from './engine.ts';

/** Google's limits on phrase hints. */
export const GOOGLE_STT_MAX_PHRASES = 5000;
export const GOOGLE_STT_MAX_PHRASE_CHARS = 100;

const DIGIT_SEQUENCE_CLASS = '$OOV_CLASS_DIGIT_SEQUENCE';
/** Boost of a closed question's phrases: strong, since the caller is expected to say one of them. */
const CLOSED_BOOST = 10;

/**
 * The part of the client used here. Its `streamingRecognize()` helper wraps the call in a pumpify stream whose
 * destroy() leaves the gRPC call open (a restart would leak one HTTP/2 stream each time, checked against the
 * fake) and hangs when ended before any audio; the underlying `_streamingRecognize()` it wraps can be cancelled,
 * so it is used directly, writing `{ streamingConfig }` first and then `{ audioContent }` as the helper does.
 */
export interface GrpcStream extends Duplex {
  cancel(): void;
}
export interface StreamingSpeechClient {
  _streamingRecognize(options?: unknown): GrpcStream;
  close(): Promise<void>;
}

/**
 * A StreamingRecognizeResponse of either API as the client decodes it (int64 seconds may arrive as string or
 * Long; enums as names). v1 has `error` and `resultEndTime`; v2 `resultEndOffset` and `speechEventOffset`.
 */
export interface StreamingResponse {
  error?: { code?: number | null; message?: string | null } | null;
  results?: StreamingResult[];
  speechEventType?: string | number | null;
  speechEventOffset?: Duration | null;
}

export interface StreamingResult {
  alternatives?: { transcript?: string | null; confidence?: number | null }[] | null;
  isFinal?: boolean | null;
  resultEndTime?: Duration | null;
  resultEndOffset?: Duration | null;
}

/** Where the two API versions differ; the rest of the engine is shared. */
export interface Dialect {
  /** The client of this version, from the loaded module. */
  client(mod: SpeechModule, options: ClientOptions): StreamingSpeechClient;
  /** The first message of every gRPC stream of a recognition stream. */
  configRequest(context: ListenContext): unknown;
  audioRequest(audio: Buffer): unknown;
  resultEnd(result: StreamingResult): Duration | null | undefined;
  /** A voice activity event in a response, with its offset on that gRPC stream's audio; null when none. */
  speechEvent(res: StreamingResponse): { type: SpeechActivityEvent['type']; offset: Duration | null } | null;
}

export type SpeechModule = typeof SpeechPackage;
type ClientConstructor = new (options: ClientOptions) => StreamingSpeechClient;

export interface Duration {
  seconds?: number | string | { toNumber(): number } | null;
  nanos?: number | null;
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
export function v1Dialect(model: string, defaultLanguage: string): Dialect {
  return {
    client: (mod, options) => {
      const Client = (mod.SpeechClient ?? mod.default.SpeechClient) as unknown as ClientConstructor;
      return new Client(options);
    },
    configRequest: (context) => ({
      streamingConfig: {
        config: {
          encoding: 'MULAW',
          sampleRateHertz: SAMPLE_RATE,
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
export function v2Dialect(recognizer: string, model: string, defaultLanguage: string): Dialect {
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
            explicitDecodingConfig: { encoding: 'MULAW', sampleRateHertz: SAMPLE_RATE, audioChannelCount: 1 },
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
export function durationMs(d: Duration | null | undefined): number {
  if (!d) return 0;
  const raw = d.seconds ?? 0;
  const seconds = typeof raw === 'object' ? raw.toNumber() : Number(raw);
  return (Number.isFinite(seconds) ? seconds : 0) * 1000 + (d.nanos ?? 0) / 1e6;
}
