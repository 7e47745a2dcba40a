/**
 * Fuzz target: whole HTTP requests to a real server (SwitchboardApp on a loopback port, softphone on, Twilio
 * signatures required), written byte for byte on a socket: request lines and targets node:http accepts but a
 * URL parser may not, headers, bodies, websocket upgrades. An input is a request (http-input.ts, with `!sign`
 * and `!token` filled in); a `content-length` is added unless the input frames its own body. The server must
 * answer every request, never with a 500 (an untyped error reached the edge), and nothing may reject or throw
 * unhandled in the process meanwhile (the runner catches that and names the input).
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { Logger } from '../../../src/observability/logger.ts';
import { SwitchboardApp } from '../../../src/server/app.ts';
import { PageTokens, SOFTPHONE_TOKEN_PURPOSE } from '../../../src/server/softphone-token.ts';
import { PromptCache } from '../../../src/speech/tts/prompt-cache.ts';
import { signTwilioRequest } from '../../../src/telephony/signature.ts';
import { ToneTts } from '../../fakes/tone-tts.ts';
import { testJournals } from '../../fixtures/journals.ts';
import { formatHttpInput, parseHttpInput, type HttpInput } from '../http-input.ts';
import { check, type FuzzTarget } from '../target.ts';
import { AUTH_TOKEN, exampleFlows } from './webhooks.ts';

let app: SwitchboardApp;
let tokens: PageTokens;
let port = 0;

async function setup(): Promise<void> {
  const journals = await testJournals();
  tokens = new PageTokens({ secret: () => journals.deriveKey(SOFTPHONE_TOKEN_PURPOSE) });
  app = new SwitchboardApp({
    flows: exampleFlows(),
    journals,
    defaultFlow: 'demo',
    prompts: new PromptCache(new ToneTts()),
    logger: new Logger({ level: 'error', sink: () => {} }),
    twilioAuthToken: AUTH_TOKEN,
    publicUrl: null,
    softphone: true,
  });
  port = (await app.listen(0, '127.0.0.1')).port;
}

/** The request's bytes on the wire, placeholders filled in. */
function wire(r: HttpInput): Buffer {
  const token = tokens.mint();
  r.target = r.target.replaceAll('!token', token);
  const headers: Record<string, string> = { host: `127.0.0.1:${port}`, ...r.headers, connection: 'close' };
  for (const [name, value] of Object.entries(headers)) {
    if (value === '!token') headers[name] = token;
    if (value === '!sign') {
      const params = Object.fromEntries(new URLSearchParams(r.body.toString('utf8')));
      headers[name] = signTwilioRequest(AUTH_TOKEN, app.publicUrl + r.target, params);
    }
  }
  if (headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) {
    headers['content-length'] = String(r.body.length);
  }
  const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
  return Buffer.concat([
    Buffer.from(`${r.method} ${r.target} HTTP/1.1\r\n${head.join('')}\r\n`, 'latin1'),
    r.body,
  ]);
}

/** Sends the request and reads the answer's status line; streams (events, websockets) are left at that. */
function exchange(bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setTimeout(3000, () => socket.destroy(new Error('no answer within 3 s')));
    socket.on('connect', () => socket.end(bytes));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (/^HTTP\/1\.1 101|text\/event-stream/m.test(answer)) socket.destroy();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? undefined : reject(err)));
    socket.on('close', () => resolve(answer.split('\r\n', 1)[0] ?? ''));
  });
}

async function run(input: Buffer): Promise<void> {
  const status = await exchange(wire(parseHttpInput(input)));
  check(/^HTTP\/1\.1 \d{3} /.test(status), `no answer to the request (got ${JSON.stringify(status)})`);
  check(!status.startsWith('HTTP/1.1 500'), 'answered 500: an untyped error reached the edge');
}

const request: fc.Arbitrary<Buffer> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'OPTIONS'),
    target: fc.oneof(
      fc.constantFrom('/', '/healthz', '/readyz', '/metrics', '/twilio/voice', '/twilio/status', '/calls'),
      fc.constantFrom(
        '/softphone/flows',
        '/softphone/calls',
        '/softphone/media?token=!token',
        '/twilio/media/x',
      ),
      fc.constantFrom(
        '//',
        '/%',
        '*',
        'http://x/healthz',
        '/calls/CA1',
        '/softphone/calls/CA1/events?token=!token',
      ),
      fc.webPath(),
    ),
    upgrade: fc.boolean(),
    signature: fc.constantFrom('!sign', ''),
    body: fc.oneof(fc.constant(''), fc.constant('CallSid=CA00000000000000000000000000000001'), fc.json()),
  })
  .map((r) =>
    formatHttpInput({
      method: r.method,
      target: r.target,
      headers: {
        'content-type': r.body.startsWith('C') ? 'application/x-www-form-urlencoded' : 'application/json',
        'x-softphone-token': '!token',
        ...(r.signature ? { 'x-twilio-signature': r.signature } : {}),
        ...(r.upgrade ? { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-version': '13' } : {}),
        ...(r.upgrade ? { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } : {}),
      },
      body: Buffer.from(r.body),
    }),
  );

export const httpRequests: FuzzTarget = {
  name: 'http-requests',
  format: 'text',
  arbitrary: request,
  dictionary: [
    ...['//', '/%', '/..', '?', '#', '%00', '\r', ' ', 'upgrade: websocket', 'transfer-encoding: chunked'],
    ...[
      'content-length: 5',
      'host: ',
      '/twilio/media/',
      '/softphone/',
      '/calls/',
      'x-twilio-signature: !sign',
    ],
  ],
  maxBytes: 4096,
  slowMs: 5000,
  setup,
  close: () => app.close(),
  run,
};
