/**
 * A fake Google Cloud Speech gRPC service, built from the .proto files the client package ships, so the REAL
 * client (and GoogleStt over it) can be tested offline. It implements only StreamingRecognize, of both
 * `google.cloud.speech.v1.Speech` and `google.cloud.speech.v2.Speech` (the other methods answer UNIMPLEMENTED),
 * answering from a script:
 *
 * - `interim`: once per stream, after that stream received `afterBytes` of audio, an interim result;
 * - `midFinals`: on stream number `stream` (0-based, in opening order), after `afterBytes`, a final result;
 * - `finalText`: when the client half-closes, a final result with that transcript, then the call ends OK;
 * - `turns`: the n-th stream to half-close after some audio answers `turns[n]` instead (a different transcript
 *   per caller turn in full-call tests); past the list, `finalText` again.
 *
 * Every result's end time (v1 resultEndTime, v2 resultEndOffset) is the audio that stream had received (1 byte =
 * 1 mu-law sample = 1/8 ms), as Google reports it: relative to the start of that stream's audio. v2 streams also
 * send voice activity events: SPEECH_ACTIVITY_BEGIN after their first audio, SPEECH_ACTIVITY_END on half-close
 * (offsets likewise). Each stream records its config and the audio bytes it received, so tests can assert phrase
 * hints and prove audio was re-sent after a restart; `failNextStream(afterBytes, code)` makes the next opened
 * stream end with that gRPC status once it has received `afterBytes`.
 *
 * `addFakeSpeech(server)` adds the services to a server of the caller's (see google-server.ts, which shares one
 * port with the Text-to-Speech fake); `startFakeSpeech()` starts a server of its own.
 */
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export interface FakeSpeechScript {
  interim?: { afterBytes: number; text: string };
  midFinals?: { stream: number; afterBytes: number; text: string }[];
  /** Transcript of the final result sent on half-close; none (the call just ends) when undefined. */
  finalText?: string;
  /** Confidence of final results; 0.9 unless given. */
  confidence?: number;
  /**
   * Final transcripts on half-close, one per stream that half-closes after receiving audio, in that order (per
   * script: setScript starts counting again); past the end, `finalText` (if any).
   */
  turns?: string[];
}

/** The StreamingRecognitionConfig as received (proto-loader's camelCase fields, enums as names). */
export interface FakeSpeechConfig {
  config?: {
    encoding?: string;
    sampleRateHertz?: number;
    languageCode?: string;
    model?: string;
    useEnhanced?: boolean;
    speechContexts?: { phrases?: string[]; boost?: number }[];
  };
  interimResults?: boolean;
  singleUtterance?: boolean;
}

/** A v2 stream's first request as received, flattened: recognizer, config and features, phrases. */
export interface FakeSpeechV2Config {
  recognizer: string;
  model?: string;
  languageCodes?: string[];
  explicitDecodingConfig?: { encoding?: string; sampleRateHertz?: number; audioChannelCount?: number };
  autoDecodingConfig?: Record<string, unknown>;
  features?: Record<string, unknown>;
  /** Every inline phrase of every phrase set, in order. */
  phrases: { value?: string; boost?: number }[];
  streamingFeatures?: { interimResults?: boolean; enableVoiceActivityEvents?: boolean };
}

/** One StreamingRecognize call as the fake saw it. */
export interface FakeSpeechStream {
  index: number;
  api: 'v1' | 'v2';
  /** A v1 stream's config; null on v2 streams. */
  config: FakeSpeechConfig | null;
  /** A v2 stream's first request; null on v1 streams. */
  v2: FakeSpeechV2Config | null;
  /** Audio bytes received (mu-law: one byte per sample). */
  bytes: number;
  /** The audio itself, concatenated, so tests can compare what was re-sent. */
  audio: Buffer[];
  halfClosed: boolean;
  cancelled: boolean;
  /** The gRPC status the fake failed this stream with, if it did. */
  failedWith: grpc.status | null;
}

/** The fake's state and controls, whichever server hosts it. */
export interface FakeSpeechService {
  /** Every stream of either API, in opening order. */
  streams: FakeSpeechStream[];
  /** Audio bytes received over all streams. */
  readonly totalBytes: number;
  /** Fail the next `count` streams opened (1 unless given) with `code` once each has received `afterBytes`. */
  failNextStream(afterBytes: number, code: grpc.status, count?: number): void;
  /** Replace the script for streams opened from now on. */
  setScript(script: FakeSpeechScript): void;
}

export interface FakeSpeech extends FakeSpeechService {
  host: string;
  port: number;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
const SPEECH_PROTOS = join(dirname(require.resolve('@google-cloud/speech/package.json')), 'build', 'protos');
// google-gax exports no package.json: go from its main file (build/src/index.js).
const GAX_PROTOS = join(dirname(require.resolve('google-gax')), '..', 'protos');

interface ServiceDefinitionTree {
  google: {
    cloud: {
      speech: {
        v1: { Speech: grpc.ServiceClientConstructor };
        v2: { Speech: grpc.ServiceClientConstructor };
      };
    };
  };
}

interface StreamingRequestV1 {
  streamingConfig?: FakeSpeechConfig;
  audioContent?: Buffer;
}

interface StreamingRequestV2 {
  recognizer?: string;
  streamingConfig?: {
    config?: Omit<FakeSpeechV2Config, 'recognizer' | 'phrases' | 'streamingFeatures'> & {
      adaptation?: {
        phraseSets?: { inlinePhraseSet?: { phrases?: { value?: string; boost?: number }[] } }[];
      };
    };
    streamingFeatures?: FakeSpeechV2Config['streamingFeatures'];
  };
  audio?: Buffer;
}

/** What differs between the versions: reading a request, shaping a result. */
interface Dialect {
  api: 'v1' | 'v2';
  /** Records a config request on the stream; returns the audio of an audio request (or null). */
  read(s: FakeSpeechStream, req: unknown): Buffer | null;
  result(text: string, isFinal: boolean, confidence: number, endBytes: number): unknown;
  /** A voice activity event, or null where the version sends none. */
  event(type: 'SPEECH_ACTIVITY_BEGIN' | 'SPEECH_ACTIVITY_END', atBytes: number): unknown;
}

const V1: Dialect = {
  api: 'v1',
  read(s, raw) {
    const req = raw as StreamingRequestV1;
    if (req.streamingConfig) {
      s.config = req.streamingConfig;
      return null;
    }
    return req.audioContent ?? null;
  },
  result: (text, isFinal, confidence, endBytes) => ({
    results: [
      {
        alternatives: [{ transcript: text, ...(isFinal ? { confidence } : {}) }],
        isFinal,
        ...(isFinal ? {} : { stability: 0.5 }),
        resultEndTime: durationOf(endBytes),
      },
    ],
  }),
  // v1 sends activity events only when asked (enableVoiceActivityEvents), which GoogleStt's v1 does not.
  event: () => null,
};

const V2: Dialect = {
  api: 'v2',
  read(s, raw) {
    const req = raw as StreamingRequestV2;
    if (req.streamingConfig) {
      const { adaptation, ...config } = req.streamingConfig.config ?? {};
      s.v2 = {
        recognizer: req.recognizer ?? '',
        ...config,
        phrases: (adaptation?.phraseSets ?? []).flatMap((p) => p.inlinePhraseSet?.phrases ?? []),
        ...(req.streamingConfig.streamingFeatures
          ? { streamingFeatures: req.streamingConfig.streamingFeatures }
          : {}),
      };
      return null;
    }
    return req.audio ?? null;
  },
  result: (text, isFinal, confidence, endBytes) => ({
    results: [
      {
        alternatives: [{ transcript: text, ...(isFinal ? { confidence } : {}) }],
        isFinal,
        ...(isFinal ? {} : { stability: 0.5 }),
        resultEndOffset: durationOf(endBytes),
      },
    ],
  }),
  event: (type, atBytes) => ({ speechEventType: type, speechEventOffset: durationOf(atBytes) }),
};

let loaded: ServiceDefinitionTree | undefined;
function services(): ServiceDefinitionTree['google']['cloud']['speech'] {
  loaded ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(
      ['google/cloud/speech/v1/cloud_speech.proto', 'google/cloud/speech/v2/cloud_speech.proto'],
      { includeDirs: [SPEECH_PROTOS, GAX_PROTOS], enums: String, defaults: false },
    ),
  ) as unknown as ServiceDefinitionTree;
  return loaded.google.cloud.speech;
}

/** Add the fake's Speech v1 and v2 services to `server` (bound by the caller). */
export function addFakeSpeech(server: grpc.Server, initial: FakeSpeechScript = {}): FakeSpeechService {
  const { v1, v2 } = services();
  let script = initial;
  const streams: FakeSpeechStream[] = [];
  const failures: { afterBytes: number; code: grpc.status }[] = [];
  // Streams of each script that half-closed after audio: which of its `turns` the next one answers.
  const turnsTaken = new WeakMap<FakeSpeechScript, number>();
  let totalBytes = 0;

  const fake: FakeSpeechService = {
    streams,
    get totalBytes() {
      return totalBytes;
    },
    failNextStream(afterBytes, code, count = 1) {
      for (let i = 0; i < count; i++) failures.push({ afterBytes, code });
    },
    setScript(next) {
      script = next;
    },
  };

  const streamingRecognize =
    (dialect: Dialect) =>
    (call: grpc.ServerDuplexStream<unknown, unknown>): void => {
      const s: FakeSpeechStream = {
        index: streams.length,
        api: dialect.api,
        config: null,
        v2: null,
        bytes: 0,
        audio: [],
        halfClosed: false,
        cancelled: false,
        failedWith: null,
      };
      streams.push(s);
      const own = script;
      const failure = failures.shift();
      const midFinals = (own.midFinals ?? []).filter((f) => f.stream === s.index);
      const confidence = own.confidence ?? 0.9;
      let interimSent = false;
      let done = false;
      const event = (type: 'SPEECH_ACTIVITY_BEGIN' | 'SPEECH_ACTIVITY_END'): void => {
        const message = dialect.event(type, s.bytes);
        if (message) call.write(message);
      };

      call.on('data', (req: unknown) => {
        if (done) return;
        const audio = dialect.read(s, req);
        if (!audio || audio.length === 0) return;
        const first = s.bytes === 0;
        s.bytes += audio.length;
        s.audio.push(Buffer.from(audio));
        totalBytes += audio.length;
        if (failure && s.bytes >= failure.afterBytes) {
          done = true;
          s.failedWith = failure.code;
          call.emit('error', { code: failure.code, details: 'fake failure' });
          return;
        }
        if (first) event('SPEECH_ACTIVITY_BEGIN');
        if (own.interim && !interimSent && s.bytes >= own.interim.afterBytes) {
          interimSent = true;
          call.write(dialect.result(own.interim.text, false, confidence, s.bytes));
        }
        for (const f of midFinals) {
          if (s.bytes < f.afterBytes) continue;
          midFinals.splice(midFinals.indexOf(f), 1);
          call.write(dialect.result(f.text, true, confidence, f.afterBytes));
          break;
        }
      });
      call.on('end', () => {
        s.halfClosed = true;
        if (done) return;
        done = true;
        let text = own.finalText;
        if (s.bytes > 0) {
          event('SPEECH_ACTIVITY_END');
          const n = turnsTaken.get(own) ?? 0;
          turnsTaken.set(own, n + 1);
          text = own.turns?.[n] ?? text;
        }
        if (text !== undefined) call.write(dialect.result(text, true, confidence, s.bytes));
        call.end();
      });
      call.on('cancelled', () => {
        s.cancelled = true;
        done = true;
      });
      call.on('error', () => {
        done = true;
      });
    };

  const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<unknown>): void =>
    callback({ code: grpc.status.UNIMPLEMENTED, details: 'not in the fake' });
  server.addService(v1.Speech.service, {
    Recognize: unimplemented,
    LongRunningRecognize: unimplemented,
    StreamingRecognize: streamingRecognize(V1),
  });
  // The v2 methods left out (recognizers, batch, phrase sets...) answer UNIMPLEMENTED by default.
  server.addService(v2.Speech.service, { StreamingRecognize: streamingRecognize(V2) });
  return fake;
}

/** Start the fake on an ephemeral port of 127.0.0.1. */
export async function startFakeSpeech(initial: FakeSpeechScript = {}): Promise<FakeSpeech> {
  const server = new grpc.Server();
  const fake = addFakeSpeech(server, initial);
  const port = await bindLocal(server);
  return Object.assign(fake, {
    host: '127.0.0.1',
    port,
    close: async (): Promise<void> => {
      // Ends open calls too, so a test that left a stream open does not keep the process alive.
      server.forceShutdown();
    },
  });
}

/** Bind `server` to an ephemeral port of 127.0.0.1. */
export function bindLocal(server: grpc.Server): Promise<number> {
  return new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );
}

/** A google.protobuf.Duration for `bytes` of 8 kHz mu-law audio. */
function durationOf(bytes: number): { seconds: number; nanos: number } {
  const ms = bytes / 8;
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}
