/**
 * A fake Google Cloud Speech v1 gRPC server on 127.0.0.1, built from the .proto files the client package ships, so
 * the REAL client (and GoogleStt over it) can be tested offline. It implements only
 * `google.cloud.speech.v1.Speech/StreamingRecognize`, answering from a script:
 *
 * - `interim`: once per stream, after that stream received `afterBytes` of audio, an interim result;
 * - `midFinals`: on stream number `stream` (0-based, in opening order), after `afterBytes`, a final result;
 * - `finalText`: when the client half-closes, a final result with that transcript, then the call ends OK.
 *
 * Every result's resultEndTime is the audio that stream had received (1 byte = 1 mu-law sample = 1/8 ms), as
 * Google reports it: relative to the start of that stream's audio. Each stream records its config and the audio
 * bytes it received, so tests can assert phrase hints and prove audio was re-sent after a restart;
 * `failNextStream(afterBytes, code)` makes the next opened stream end with that gRPC status once it has
 * received `afterBytes`.
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

/** One StreamingRecognize call as the fake saw it. */
export interface FakeSpeechStream {
  index: number;
  config: FakeSpeechConfig | null;
  /** Audio bytes received (mu-law: one byte per sample). */
  bytes: number;
  /** The audio itself, concatenated, so tests can compare what was re-sent. */
  audio: Buffer[];
  halfClosed: boolean;
  cancelled: boolean;
  /** The gRPC status the fake failed this stream with, if it did. */
  failedWith: grpc.status | null;
}

export interface FakeSpeech {
  host: string;
  port: number;
  /** Every stream, in opening order. */
  streams: FakeSpeechStream[];
  /** Audio bytes received over all streams. */
  readonly totalBytes: number;
  /** Fail the next `count` streams opened (1 unless given) with `code` once each has received `afterBytes`. */
  failNextStream(afterBytes: number, code: grpc.status, count?: number): void;
  /** Replace the script for streams opened from now on. */
  setScript(script: FakeSpeechScript): void;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
const SPEECH_PROTOS = join(dirname(require.resolve('@google-cloud/speech/package.json')), 'build', 'protos');
// google-gax exports no package.json: go from its main file (build/src/index.js).
const GAX_PROTOS = join(dirname(require.resolve('google-gax')), '..', 'protos');

interface ServiceDefinitionTree {
  google: { cloud: { speech: { v1: { Speech: grpc.ServiceClientConstructor } } } };
}

interface StreamingRequest {
  streamingConfig?: FakeSpeechConfig;
  audioContent?: Buffer;
}

/** Start the fake on an ephemeral port of 127.0.0.1. */
export async function startFakeSpeech(initial: FakeSpeechScript = {}): Promise<FakeSpeech> {
  const definition = protoLoader.loadSync('google/cloud/speech/v1/cloud_speech.proto', {
    includeDirs: [SPEECH_PROTOS, GAX_PROTOS],
    enums: String,
    defaults: false,
  });
  const tree = grpc.loadPackageDefinition(definition) as unknown as ServiceDefinitionTree;
  const service = tree.google.cloud.speech.v1.Speech.service;

  let script = initial;
  const streams: FakeSpeechStream[] = [];
  const failures: { afterBytes: number; code: grpc.status }[] = [];
  let totalBytes = 0;
  const server = new grpc.Server();

  const fake: FakeSpeech = {
    host: '127.0.0.1',
    port: 0,
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
    close: () =>
      new Promise<void>((resolve) => {
        // Ends open calls too, so a test that left a stream open does not keep the process alive.
        server.forceShutdown();
        resolve();
      }),
  };

  server.addService(service, {
    Recognize: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
      callback({ code: grpc.status.UNIMPLEMENTED, details: 'not in the fake' }),
    LongRunningRecognize: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
      callback({ code: grpc.status.UNIMPLEMENTED, details: 'not in the fake' }),
    StreamingRecognize(call: grpc.ServerDuplexStream<StreamingRequest, unknown>) {
      const s: FakeSpeechStream = {
        index: streams.length,
        config: null,
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
      let interimSent = false;
      let done = false;

      const result = (text: string, isFinal: boolean, endBytes: number): unknown => ({
        results: [
          {
            alternatives: [{ transcript: text, ...(isFinal ? { confidence: own.confidence ?? 0.9 } : {}) }],
            isFinal,
            ...(isFinal ? {} : { stability: 0.5 }),
            resultEndTime: durationOf(endBytes),
          },
        ],
      });

      call.on('data', (req: StreamingRequest) => {
        if (done) return;
        if (req.streamingConfig) {
          s.config = req.streamingConfig;
          return;
        }
        const audio = req.audioContent;
        if (!audio || audio.length === 0) return;
        s.bytes += audio.length;
        s.audio.push(Buffer.from(audio));
        totalBytes += audio.length;
        if (failure && s.bytes >= failure.afterBytes) {
          done = true;
          s.failedWith = failure.code;
          call.emit('error', { code: failure.code, details: 'fake failure' });
          return;
        }
        if (own.interim && !interimSent && s.bytes >= own.interim.afterBytes) {
          interimSent = true;
          call.write(result(own.interim.text, false, s.bytes));
        }
        for (const f of midFinals) {
          if (s.bytes < f.afterBytes) continue;
          midFinals.splice(midFinals.indexOf(f), 1);
          call.write(result(f.text, true, f.afterBytes));
          break;
        }
      });
      call.on('end', () => {
        s.halfClosed = true;
        if (done) return;
        done = true;
        if (own.finalText !== undefined) call.write(result(own.finalText, true, s.bytes));
        call.end();
      });
      call.on('cancelled', () => {
        s.cancelled = true;
        done = true;
      });
      call.on('error', () => {
        done = true;
      });
    },
  });

  fake.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );
  return fake;
}

/** A google.protobuf.Duration for `bytes` of 8 kHz mu-law audio. */
function durationOf(bytes: number): { seconds: number; nanos: number } {
  const ms = bytes / 8;
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}
