/**
 * One local gRPC server on 127.0.0.1 hosting the Text-to-Speech fake and the Speech fake (v1 and v2), as Google's
 * one endpoint would: a server under test needs a single GOOGLE_API_ENDPOINT for both engines.
 */
import * as grpc from '@grpc/grpc-js';
import {
  addFakeSpeech,
  bindLocal,
  type FakeSpeechScript,
  type FakeSpeechService,
} from './google-speech-server.ts';
import { addFakeTts, type FakeTtsService } from './google-tts-server.ts';

export interface FakeGoogle {
  host: string;
  port: number;
  tts: FakeTtsService;
  speech: FakeSpeechService;
  /** Ends open calls too, so a test that left a stream open does not keep the process alive. */
  close(): Promise<void>;
}

/** Start both fakes on one ephemeral port of 127.0.0.1; `speech` is the Speech fake's script. */
export async function startFakeGoogle(options: { speech?: FakeSpeechScript } = {}): Promise<FakeGoogle> {
  const server = new grpc.Server();
  const tts = addFakeTts(server);
  const speech = addFakeSpeech(server, options.speech ?? {});
  const port = await bindLocal(server);
  return {
    host: '127.0.0.1',
    port,
    tts,
    speech,
    close: async () => {
      server.forceShutdown();
    },
  };
}
