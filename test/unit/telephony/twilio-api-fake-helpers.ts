/** Shared by the twilio-api-fake-*.test.ts files: the real twilio client on the fake API, an app under it. */
import type { TestContext } from 'node:test';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type TwilioClient from 'twilio/lib/rest/Twilio.js';
import type RequestClientType from 'twilio/lib/base/RequestClient.js';
import {
  FakeTwilioApiServer,
  type FakeTwilioEvent,
  type FakeWebhook,
  type FakeWebhookKind,
} from '../../fakes/twilio-api/index.ts';

const require = createRequire(import.meta.url);
export const Twilio = require('twilio/lib/rest/Twilio.js') as typeof TwilioClient;
const RequestClient = require('twilio/lib/base/RequestClient.js') as typeof RequestClientType;

export const ACCOUNT = 'AC' + '0123456789abcdef'.repeat(2);
export const TOKEN = 'fake-api-auth-token';
export const FROM = '+15555550100';
export const CALLEE = '+15555550123';
export const CALL_SID = /^CA[0-9a-f]{32}$/;
export const STREAM_TWIML =
  '<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://switchboard.test/twilio/media"/></Connect></Response>';
export const REDIRECT_TWIML = '<Response><Say>One moment.</Say><Hangup/></Response>';
export const ALL_EVENTS = ['initiated', 'ringing', 'answered', 'completed'];

/** The real twilio RequestClient, sending to the fake instead of https://api.twilio.com. */
export class LocalRequestClient extends RequestClient {
  readonly #base: string;

  constructor(base: string) {
    super({ keepAlive: false });
    this.#base = base;
  }

  override request<TData>(opts: RequestClientType.RequestOptions<TData>) {
    const uri = new URL(opts.uri);
    return super.request({ ...opts, uri: new URL(uri.pathname + uri.search, this.#base).toString() });
  }
}

/** Twilio's documented signature, computed independently of the fake. */
export function referenceSignature(token: string, url: string, params: Record<string, string>): string {
  let data = url;
  for (const key of Object.keys(params).sort()) data += key + params[key];
  return createHmac('sha1', token).update(data, 'utf8').digest('base64');
}

interface Received {
  path: string;
  params: Record<string, string>;
  signatureValid: boolean;
}

/** The application under Twilio: checks every signature, answers TwiML on /voice and /redirect. */
async function startApp(t: TestContext) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const expected = referenceSignature(TOKEN, base + (req.url ?? ''), params);
      const path = new URL(req.url ?? '/', base).pathname;
      received.push({ path, params, signatureValid: req.headers['x-twilio-signature'] === expected });
      const twiml = path === '/voice' ? STREAM_TWIML : path === '/redirect' ? REDIRECT_TWIML : null;
      if (path === '/broken') res.writeHead(500).end('oops');
      else if (twiml === null) res.writeHead(204).end();
      else res.writeHead(200, { 'content-type': 'text/xml' }).end(twiml);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { base, received };
}

export async function setup(t: TestContext, stepMs?: number) {
  const fake = new FakeTwilioApiServer({ accountSid: ACCOUNT, authToken: TOKEN, stepMs });
  await fake.start();
  t.after(() => fake.close());
  const app = await startApp(t);
  const client = new Twilio(ACCOUNT, TOKEN, { httpClient: new LocalRequestClient(fake.url) });
  /** A call as the outbound feature will place it: every progress event, async AMD, all to the app. */
  const dial = (to: string) =>
    client.calls.create({
      to,
      from: FROM,
      url: `${app.base}/voice`,
      statusCallback: `${app.base}/status`,
      statusCallbackEvent: ALL_EVENTS,
      machineDetection: 'DetectMessageEnd',
      asyncAmd: 'true',
      asyncAmdStatusCallback: `${app.base}/amd`,
    });
  /** What the app received about one call, as "path status-or-answer". */
  const trace = (callSid: string) =>
    app.received
      .filter((r) => r.params.CallSid === callSid)
      .map((r) => `${r.path} ${r.params.CallStatus ?? r.params.RecordingStatus ?? r.params.AnsweredBy}`);
  return { fake, app, client, dial, trace };
}

export function webhookSent(
  fake: FakeTwilioApiServer,
  callSid: string,
  kind: FakeWebhookKind,
  matches: (w: FakeWebhook) => boolean = () => true,
): Promise<FakeWebhook> {
  const isIt = (e: FakeTwilioEvent): e is Extract<FakeTwilioEvent, { type: 'webhook' }> =>
    e.type === 'webhook' && e.webhook.callSid === callSid && e.webhook.kind === kind && matches(e.webhook);
  return fake.waitFor(isIt).then((e) => e.webhook);
}
