/** TWILIO_API_URL: the base URLs accepted, and the library's requests sent to one over a real socket. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { isSwitchboardError, type SwitchboardError } from '../../../src/errors.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { RebasedRequestClient, parseTwilioApiUrl } from '../../../src/telephony/api-url.ts';
import { CallControl } from '../../../src/telephony/call-control.ts';
import {
  type CannedTwilioResponse,
  RecordingTwilioHttpClient,
  callResource,
  twilioError,
} from '../../fakes/twilio-rest.ts';

const ACCOUNT = 'AC' + '0123456789abcdef'.repeat(2);
const TOKEN = 'test-auth-token';
const CALL = 'CA' + 'fedcba9876543210'.repeat(2);
const CALL_PATH = `/2010-04-01/Accounts/${ACCOUNT}/Calls/${CALL}.json`;

const refused = (why: RegExp) => (err: unknown) =>
  isSwitchboardError(err, 'CONFIG_INVALID') &&
  err.message.includes('TWILIO_API_URL') &&
  why.test(err.message);

// First in the file: the check is that nothing before it loaded the library's HTTP client.
test('the library RequestClient is loaded on first use, not when a CallControl with apiUrl is built', () => {
  const cache = createRequire(import.meta.url).cache;
  const loaded = () => Object.keys(cache).some((k) => k.endsWith('twilio/lib/base/RequestClient.js'));
  const { logger } = memoryLogger();
  const control = new CallControl({
    accountSid: ACCOUNT,
    authToken: TOKEN,
    logger,
    apiUrl: 'http://127.0.0.1:4010',
  });
  assert.equal(loaded(), false);
  control.warm();
  assert.equal(loaded(), true);
});

test('https to any host is accepted, as its origin', () => {
  assert.equal(parseTwilioApiUrl('https://twilio-fake.example'), 'https://twilio-fake.example');
  assert.equal(parseTwilioApiUrl('https://twilio-fake.example/'), 'https://twilio-fake.example');
  assert.equal(parseTwilioApiUrl('https://10.0.0.5:8443'), 'https://10.0.0.5:8443');
  assert.equal(parseTwilioApiUrl('HTTPS://API.Twilio.com:443/'), 'https://api.twilio.com');
});

test('plain http is accepted for a loopback host: 127.0.0.0/8, ::1, localhost', () => {
  assert.equal(parseTwilioApiUrl('http://127.0.0.1:4010'), 'http://127.0.0.1:4010');
  assert.equal(parseTwilioApiUrl('http://127.8.9.10:4010/'), 'http://127.8.9.10:4010');
  assert.equal(parseTwilioApiUrl('http://[::1]:4010'), 'http://[::1]:4010');
  assert.equal(parseTwilioApiUrl('http://localhost:4010'), 'http://localhost:4010');
  assert.equal(parseTwilioApiUrl('http://LocalHost'), 'http://localhost');
});

test('plain http to any other host is CONFIG_INVALID: the auth token would cross the network in clear', () => {
  for (const url of [
    'http://twilio-fake.example',
    'http://10.0.0.5:4010',
    'http://128.0.0.1',
    'http://[::2]:4010',
    'http://localhost.example.com',
    'http://0.0.0.0:4010',
  ]) {
    assert.throws(() => parseTwilioApiUrl(url), refused(/loopback/), url);
  }
});

test('a path, a query, a fragment, credentials or something not an http(s) URL is CONFIG_INVALID', () => {
  for (const url of [
    'https://twilio-fake.example/2010-04-01',
    'http://127.0.0.1:4010/api/',
    'https://x.example//',
  ]) {
    assert.throws(() => parseTwilioApiUrl(url), refused(/path/), url);
  }
  for (const url of ['https://x.example/?region=us1', 'https://x.example?', 'http://127.0.0.1:4010/#top']) {
    assert.throws(() => parseTwilioApiUrl(url), refused(/query or fragment/), url);
  }
  for (const url of ['', 'not a url', '127.0.0.1:4010', 'localhost:4010', 'ftp://x.example', 'https://']) {
    assert.throws(() => parseTwilioApiUrl(url), refused(/http\(s\) URL/), url);
  }
  assert.throws(
    () => parseTwilioApiUrl('https://user:s3cret@x.example'),
    (err: unknown) => refused(/credentials/)(err) && !(err as Error).message.includes('s3cret'),
  );
  const { logger } = memoryLogger();
  assert.throws(
    () => new CallControl({ accountSid: ACCOUNT, authToken: TOKEN, logger, apiUrl: 'http://x.example' }),
    refused(/loopback/),
  );
});

test('each request goes to the base URL with its path and query, whatever Twilio host, edge or region it named', async () => {
  const inner = new RecordingTwilioHttpClient();
  const client = new RebasedRequestClient('http://127.0.0.1:4010/', inner);
  const opts = {
    method: 'get' as const,
    username: ACCOUNT,
    password: TOKEN,
    headers: { Accept: 'application/json' },
    data: { PageSize: 2 },
    timeout: 1234,
  };
  for (const [uri, rebased] of [
    [`https://api.twilio.com${CALL_PATH}`, `http://127.0.0.1:4010${CALL_PATH}`],
    [`https://api.sydney.au1.twilio.com${CALL_PATH}`, `http://127.0.0.1:4010${CALL_PATH}`],
    [
      'https://voice.twilio.com/v1/Settings?PageSize=2&Page=1',
      'http://127.0.0.1:4010/v1/Settings?PageSize=2&Page=1',
    ],
  ] as const) {
    await client.request({ ...opts, uri });
    const req = inner.requests.at(-1)!;
    assert.equal(req.uri, rebased);
    assert.equal(req.username, ACCOUNT);
    assert.equal(req.password, TOKEN);
    assert.deepEqual(req.headers, { Accept: 'application/json' });
    assert.deepEqual(req.data, { PageSize: 2 });
  }
});

test('a URI outside Twilio is refused, sending nothing (it would take the credentials elsewhere)', async () => {
  const inner = new RecordingTwilioHttpClient();
  const client = new RebasedRequestClient('http://127.0.0.1:4010', inner);
  for (const uri of [
    'https://example.com/2010-04-01/Accounts.json',
    'http://api.twilio.com/2010-04-01/Accounts.json',
    'https://api.twilio.com.example.com/2010-04-01/Accounts.json',
    'not a uri',
  ]) {
    await assert.rejects(
      client.request({ method: 'get', uri, username: ACCOUNT, password: TOKEN }),
      (err: unknown) => isSwitchboardError(err, 'TWILIO_REST_FAILED'),
      uri,
    );
  }
  assert.equal(inner.requests.length, 0);
});

/** One request as a local fake of Twilio's API received it. */
interface Received {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

/** A real HTTP server on 127.0.0.1 that records each request and answers it with `answer`. */
async function fakeTwilioApi(answer: (req: Received) => { status: number; body: unknown }) {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(r);
      const { status, body } = answer(r);
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    async close(): Promise<void> {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A canned answer of the recording double, as the local server sends it. */
function body(answer: CannedTwilioResponse): { status: number; body: unknown } {
  assert.ok('statusCode' in answer);
  return { status: answer.statusCode, body: answer.body };
}

test('hangup through a real CallControl reaches a local server: the call update, Basic auth and Status=completed', async () => {
  const api = await fakeTwilioApi(() => body(callResource(CALL, ACCOUNT, 'completed')));
  try {
    const { logger, records } = memoryLogger();
    const control = new CallControl({ accountSid: ACCOUNT, authToken: TOKEN, logger, apiUrl: api.url });
    await control.hangup(CALL);

    assert.equal(api.received.length, 1);
    const req = api.received[0]!;
    assert.equal(req.method, 'POST');
    assert.equal(req.url, CALL_PATH);
    assert.equal(req.authorization, 'Basic ' + Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64'));
    assert.equal(req.contentType, 'application/x-www-form-urlencoded');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(req.body)), { Status: 'completed' });
    assert.ok(records.some((r) => r.msg === 'call hung up' && r.callSid === CALL));
  } finally {
    await api.close();
  }
});

test('with TWILIO_EDGE and TWILIO_REGION set for the library, requests still reach the base URL', async () => {
  const api = await fakeTwilioApi(() => body(callResource(CALL, ACCOUNT)));
  const saved = { edge: process.env.TWILIO_EDGE, region: process.env.TWILIO_REGION };
  process.env.TWILIO_EDGE = 'sydney';
  process.env.TWILIO_REGION = 'au1';
  try {
    const { logger } = memoryLogger();
    const control = new CallControl({ accountSid: ACCOUNT, authToken: TOKEN, logger, apiUrl: api.url });
    await control.transfer(CALL, '+15555550100');
    assert.equal(api.received.length, 1);
    assert.equal(api.received[0]!.url, CALL_PATH);
  } finally {
    for (const [name, value] of [
      ['TWILIO_EDGE', saved.edge],
      ['TWILIO_REGION', saved.region],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await api.close();
  }
});

test("a 404 Twilio error from the local server surfaces as TWILIO_REST_FAILED with Twilio's code", async () => {
  const api = await fakeTwilioApi(() =>
    body(twilioError(404, 20404, `The requested resource ${CALL_PATH} was not found`)),
  );
  try {
    const { logger, records } = memoryLogger();
    const control = new CallControl({ accountSid: ACCOUNT, authToken: TOKEN, logger, apiUrl: api.url });
    let caught: SwitchboardError | undefined;
    await assert.rejects(control.hangup(CALL), (err: unknown) => {
      caught = err as SwitchboardError;
      return isSwitchboardError(err, 'TWILIO_REST_FAILED');
    });
    assert.equal(caught?.data.status, 404);
    assert.equal(caught?.data.twilioCode, 20404);
    assert.equal(caught?.data.moreInfo, 'https://www.twilio.com/docs/errors/20404');
    assert.equal(api.received.length, 1);
    const failure = records.find((r) => r.msg === 'call control failed');
    assert.equal(failure?.twilioCode, 20404);
  } finally {
    await api.close();
  }
});
