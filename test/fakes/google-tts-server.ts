/**
 * A fake Google Cloud Text-to-Speech v1 gRPC server on 127.0.0.1, built from the .proto files the client package
 * ships, so the REAL client can be tested offline. SynthesizeSpeech answers a WAV file the way Google does for
 * MULAW (a RIFF header, here with a LIST chunk before `data` so a reader must walk the chunks) holding a 440 Hz
 * tone, FAKE_TTS_MS_PER_CHAR per character of input. It records every request and can be told to fail, to be slow,
 * or to answer in another audio format. `addFakeTts(server)` adds the service to a server of the caller's (see
 * google-server.ts); `startFakeTts()` starts a server of its own.
 */
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { pcmToMulaw } from '../../src/audio/mulaw.ts';

/** Milliseconds of tone per character of text (or SSML). */
export const FAKE_TTS_MS_PER_CHAR = 50;

/** A request as the fake received it (proto-loader's camelCase fields, enums as names). */
export interface FakeTtsRequest {
  input: { text?: string; ssml?: string };
  voice: { languageCode?: string; name?: string };
  audioConfig: { audioEncoding?: string; sampleRateHertz?: number };
  /** The deadline the client sent (grpc-timeout), in ms from arrival; undefined when none. */
  deadlineMs: number | undefined;
}

/** How the next answers are shaped: Google's WAV, a LINEAR16 WAV (format 1), or bare mu-law bytes. */
export type FakeTtsAnswer = 'mulaw-wav' | 'linear16-wav' | 'raw-mulaw';

/** The fake's state and controls, whichever server hosts it. */
export interface FakeTtsService {
  /** Every SynthesizeSpeech request received, in order (failed ones included). */
  requests: FakeTtsRequest[];
  /** Fail the next `n` requests with gRPC status `code`. */
  failNext(n: number, code: grpc.status): void;
  /** Answer every request in this shape from now on; 'mulaw-wav' at start. */
  answerAs(shape: FakeTtsAnswer): void;
  /** Wait this long before answering each request; 0 at start. */
  delayMs: number;
}

export interface FakeTts extends FakeTtsService {
  host: string;
  port: number;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
const TTS_PROTOS = join(
  dirname(require.resolve('@google-cloud/text-to-speech/package.json')),
  'build',
  'protos',
);
// google-gax exports no package.json: go from its main file (build/src/index.js).
const GAX_PROTOS = join(dirname(require.resolve('google-gax')), '..', 'protos');

interface ServiceDefinitionTree {
  google: { cloud: { texttospeech: { v1: { TextToSpeech: grpc.ServiceClientConstructor } } } };
}

/** Add the fake's Text-to-Speech v1 service to `server` (bound by the caller). */
export function addFakeTts(server: grpc.Server): FakeTtsService {
  const definition = protoLoader.loadSync('google/cloud/texttospeech/v1/cloud_tts.proto', {
    includeDirs: [TTS_PROTOS, GAX_PROTOS],
    enums: String,
    defaults: false,
  });
  const tree = grpc.loadPackageDefinition(definition) as unknown as ServiceDefinitionTree;
  const service = tree.google.cloud.texttospeech.v1.TextToSpeech.service;

  const requests: FakeTtsRequest[] = [];
  let failures: { left: number; code: grpc.status } = { left: 0, code: grpc.status.OK };
  let shape: FakeTtsAnswer = 'mulaw-wav';

  const fake: FakeTtsService = {
    requests,
    delayMs: 0,
    failNext(n, code) {
      failures = { left: n, code };
    },
    answerAs(next) {
      shape = next;
    },
  };

  server.addService(service, {
    SynthesizeSpeech(
      call: grpc.ServerUnaryCall<FakeTtsRequest, unknown>,
      callback: grpc.sendUnaryData<{ audioContent: Buffer }>,
    ) {
      const deadline = call.getDeadline();
      const deadlineMs =
        deadline instanceof Date
          ? deadline.getTime() - Date.now()
          : Number.isFinite(deadline)
            ? deadline - Date.now()
            : undefined;
      const req = call.request;
      requests.push({
        input: { ...req.input },
        voice: { ...req.voice },
        audioConfig: { ...req.audioConfig },
        deadlineMs,
      });
      const answer = (): void => {
        if (failures.left > 0) {
          failures.left--;
          callback({ code: failures.code, details: 'fake failure' });
          return;
        }
        const chars = (req.input.ssml ?? req.input.text ?? '').length;
        callback(null, { audioContent: Buffer.from(fakeAudio(chars, shape)) });
      };
      if (fake.delayMs > 0) setTimeout(answer, fake.delayMs);
      else answer();
    },
    StreamingSynthesize(call: grpc.ServerDuplexStream<unknown, unknown>) {
      call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'not in the fake' });
    },
  });

  return fake;
}

/** Start the fake on an ephemeral port of 127.0.0.1. */
export async function startFakeTts(): Promise<FakeTts> {
  const server = new grpc.Server();
  const fake = addFakeTts(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );
  return Object.assign(fake, {
    host: '127.0.0.1',
    port,
    close: async (): Promise<void> => {
      // Ends open calls too, so a test that aborted a slow request does not keep the process alive.
      server.forceShutdown();
    },
  });
}

/** The deterministic tone for `chars` characters, as 8 kHz mu-law samples. */
export function fakeToneMulaw(chars: number): Uint8Array {
  const n = chars * FAKE_TTS_MS_PER_CHAR * 8;
  const pcm = new Int16Array(n);
  // Phase offset so no frame starts on a zero crossing; amplitude well above the silence trimmer's threshold.
  for (let i = 0; i < n; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000 + 1));
  return pcmToMulaw(pcm);
}

/** What the fake answers for `chars` characters in `shape`. */
export function fakeAudio(chars: number, shape: FakeTtsAnswer): Uint8Array {
  const mulaw = fakeToneMulaw(chars);
  if (shape === 'raw-mulaw') return mulaw;
  if (shape === 'mulaw-wav') return wav(mulaw, { format: 7, bits: 8 });
  const pcm = new Uint8Array(mulaw.length * 2); // silence is enough: it must be refused before playing
  return wav(pcm, { format: 1, bits: 16 });
}

/** RIFF WAVE: fmt (18 bytes, with cbSize), a LIST/INFO chunk of odd size (so a pad byte follows), then data. */
function wav(data: Uint8Array, f: { format: number; bits: number }): Uint8Array {
  const info = new TextEncoder().encode('INFOISFT\x05\x00\x00\x00fake\x00');
  const listSize = info.length; // 17: odd, needs a pad byte
  const total = 12 + (8 + 18) + (8 + listSize + 1) + (8 + data.length + (data.length & 1));
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  const id = (s: string): void => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
    at += 4;
  };
  const u32 = (v: number): void => {
    view.setUint32(at, v, true);
    at += 4;
  };
  const u16 = (v: number): void => {
    view.setUint16(at, v, true);
    at += 2;
  };
  id('RIFF');
  u32(total - 8);
  id('WAVE');
  id('fmt ');
  u32(18);
  const blockAlign = f.bits >> 3;
  u16(f.format);
  u16(1);
  u32(8000);
  u32(8000 * blockAlign);
  u16(blockAlign);
  u16(f.bits);
  u16(0);
  id('LIST');
  u32(listSize);
  out.set(info, at);
  at += listSize + 1;
  id('data');
  u32(data.length);
  out.set(data, at);
  return out;
}
