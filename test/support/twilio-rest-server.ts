/**
 * A test server whose live call control goes to the local fake of Twilio's REST API (test/fakes/twilio-api/),
 * with one flow written to a temporary folder; and Twilio's side of a media stream that TwiML connects. For tests
 * of what calls ask of Twilio while live: recordings, warm transfers.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../../src/observability/logger.ts';
import { readTwiml } from '../../src/simulator/twiml-reader.ts';
import { CallControl } from '../../src/telephony/call-control.ts';
import { signTwilioRequest } from '../../src/telephony/signature.ts';
import { FakeTwilioApiServer } from '../fakes/twilio-api/index.ts';
import { ToneTts } from '../fakes/tone-tts.ts';
import { RawStream, startServer, type TestServer } from './harness.ts';

export interface TwilioRestServer {
  server: TestServer;
  twilio: FakeTwilioApiServer;
  close(): Promise<void>;
}

/** A server serving `flow` (its `id` the default flow), signed by `authToken`, its REST requests to a fake. */
export async function serverWithTwilioRest(opts: {
  accountSid: string;
  authToken: string;
  flow: { id: string };
}): Promise<TwilioRestServer> {
  const { accountSid, authToken, flow } = opts;
  const dir = await mkdtemp(join(tmpdir(), `switchboard-${flow.id}-`));
  await writeFile(join(dir, `${flow.id}.json`), JSON.stringify(flow));
  const twilio = new FakeTwilioApiServer({ accountSid, authToken });
  await twilio.start();
  const callControl = new CallControl({
    accountSid,
    authToken,
    apiUrl: twilio.url,
    logger: memoryLogger().logger,
  });
  const server = await startServer({
    authToken,
    tts: new ToneTts({ msPerChar: 1 }),
    flowsDir: dir,
    defaultFlow: flow.id,
    callControl,
  });
  return {
    server,
    twilio,
    close: async () => {
      await twilio.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Twilio's side of the media stream `twiml` connects for call `callSid`, started: each mark is echoed at once, as
 * if the audio before it had played instantly.
 */
export async function streamFromTwiml(authToken: string, callSid: string, twiml: string): Promise<RawStream> {
  const connect = readTwiml(twiml).connect!;
  const stream = new RawStream(connect.streamUrl, callSid, {
    'x-twilio-signature': signTwilioRequest(authToken, connect.streamUrl, {}),
  });
  await stream.opened;
  stream.ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { event: string; mark?: { name: string } };
    if (message.event === 'mark' && message.mark) stream.send(stream.enc.mark(message.mark.name));
  });
  stream.send(stream.enc.connected());
  stream.send(stream.enc.start(connect.parameters));
  return stream;
}

/** Resolves once `check` holds, asked every 25 ms; fails after 5 s naming `what` never happened. */
export async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never: ${what}`);
}
