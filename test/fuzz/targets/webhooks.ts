/**
 * Fuzz target: Twilio's webhooks (voice, status, connect-ended) as TwilioWebhooks serves them: form bodies read
 * and parsed (readBody, parseForm), signatures checked (isValidTwilioSignature), calls admitted, ended and
 * resumed in an in-memory journal store. An input is a request (http-input.ts); `!sign` signs it as Twilio
 * would, so mutants get past the signature to the handlers. Only HTTP_* and FLOW_NOT_FOUND may be thrown (the
 * app answers those with their 4xx/5xx); a request handled is answered, a 200 is TwiML, and a request not
 * signed by Twilio is never answered 2xx.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { checkFlowText, compileFlow, type CompiledFlow } from '../../../src/flow/index.ts';
import { Logger } from '../../../src/observability/logger.ts';
import { createServerMetrics } from '../../../src/observability/metrics.ts';
import { Admission } from '../../../src/server/admission.ts';
import { TwilioWebhooks } from '../../../src/server/twilio-webhooks.ts';
import { readTwiml } from '../../../src/simulator/twiml-reader.ts';
import { signTwilioRequest } from '../../../src/telephony/signature.ts';
import { EXAMPLE_FLOWS, exampleFlowFile } from '../../fixtures/example-flows.ts';
import { testJournals } from '../../fixtures/journals.ts';
import { FakeResponse, fakeRequest, formatHttpInput, parseHttpInput } from '../http-input.ts';
import { check, codesOf, typedAsync, type FuzzTarget } from '../target.ts';

export const AUTH_TOKEN = 'fuzz-auth-token';
export const PUBLIC_URL = 'https://switchboard.example.com';
const ANSWERED = new Set([...codesOf('HTTP'), 'FLOW_NOT_FOUND' as const]);

/** The example flows, compiled once per process. */
export function exampleFlows(): Map<string, CompiledFlow> {
  const flows = new Map<string, CompiledFlow>();
  for (const id of EXAMPLE_FLOWS) {
    const result = checkFlowText(readFileSync(exampleFlowFile(id), 'utf8'));
    if (!result.ok) throw new Error(`example flow ${id} does not validate`);
    flows.set(id, compileFlow(result.flow));
  }
  return flows;
}

/** A few call ids, so a call admitted by one input is ended or resumed by another. */
const CALL_SIDS = Array.from({ length: 6 }, (_, i) => `CA${String(i).padStart(32, '0')}`);

const form = fc
  .record(
    {
      CallSid: fc.oneof(fc.constantFrom(...CALL_SIDS), fc.string({ maxLength: 70 })),
      AccountSid: fc.constant('AC0123456789abcdef0123456789abcdef'),
      From: fc.constantFrom('+15550100', 'client:alice', ''),
      To: fc.constantFrom('+15550199', ''),
      CallStatus: fc.constantFrom('ringing', 'in-progress', 'completed', 'busy', 'no-answer'),
      SequenceNumber: fc.oneof(fc.nat({ max: 9 }).map(String), fc.string({ maxLength: 4 })),
      StreamSid: fc.constant('MZ0123456789abcdef0123456789abcdef'),
    },
    { requiredKeys: [] },
  )
  .chain((known) =>
    fc
      .dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 12 }), { maxKeys: 2 })
      .map((extra) => new URLSearchParams({ ...extra, ...known }).toString()),
  );

const request: fc.Arbitrary<Buffer> = fc
  .record({
    method: fc.constantFrom('POST', 'POST', 'POST', 'GET'),
    path: fc.constantFrom('/twilio/voice', '/twilio/status', '/twilio/connect-ended'),
    query: fc.constantFrom('', '?flow=pizza', '?flow=demo', '?flow=nope', '?flow=', '?x=1&flow=support'),
    type: fc.constantFrom(
      'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded; charset=utf-8',
      'text/plain',
      '',
    ),
    signature: fc.constantFrom('!sign', '!sign', '!sign', '', 'bogus'),
    body: form,
  })
  .map((r) =>
    formatHttpInput({
      method: r.method,
      target: r.path + r.query,
      headers: {
        ...(r.type ? { 'content-type': r.type } : {}),
        ...(r.signature ? { 'x-twilio-signature': r.signature } : {}),
      },
      body: Buffer.from(r.body),
    }),
  );

let webhooks: TwilioWebhooks;
let admission: Admission;

async function setup(): Promise<void> {
  const journals = await testJournals();
  const logger = new Logger({ level: 'error', sink: () => {} });
  admission = new Admission({
    config: null,
    live: () => [],
    journals,
    metrics: createServerMetrics(),
    logger,
  });
  webhooks = new TwilioWebhooks({
    flows: exampleFlows(),
    defaultFlow: 'demo',
    journals,
    admission,
    logger,
    twilioAuthToken: AUTH_TOKEN,
    publicUrl: () => PUBLIC_URL,
    draining: () => false,
  });
}

async function run(input: Buffer): Promise<void> {
  const r = parseHttpInput(input);
  // The app turns away a request target it cannot read before any route sees it.
  if (!URL.canParse(r.target, 'http://localhost')) return;
  const signed = r.headers['x-twilio-signature'] === '!sign';
  if (signed) {
    const params = Object.fromEntries(new URLSearchParams(r.body.toString('utf8')));
    r.headers['x-twilio-signature'] = signTwilioRequest(AUTH_TOKEN, PUBLIC_URL + r.target, params);
  }
  const url = new URL(r.target, 'http://localhost');
  const route = `${r.method} ${url.pathname.replace(/\/+$/, '') || '/'}`;
  const res = new FakeResponse();
  const handled = await typedAsync(ANSWERED, () =>
    webhooks.handle(fakeRequest(r), res.asResponse, route, url),
  );
  if (handled !== true) return;
  check(res.finished, `${route} was handled but never answered`);
  check(signed, `${route} answered ${res.statusCode} to a request Twilio did not sign`);
  check(res.statusCode === 200 || res.statusCode === 204, `${route} answered ${res.statusCode}`);
  if (res.statusCode === 200) readTwiml(res.body);
}

export const webhooksTarget: FuzzTarget = {
  name: 'webhooks',
  format: 'text',
  arbitrary: request,
  dictionary: [
    ...['CallSid=', 'CallStatus=completed', 'SequenceNumber=', 'From=', 'To=', '&', '=', '%', '%00', '+'],
    ...[
      '/twilio/voice',
      '/twilio/status',
      '/twilio/connect-ended',
      '?flow=',
      'pizza',
      'x-twilio-signature: ',
    ],
    ...['content-type: application/x-www-form-urlencoded', 'content-length: ', '!sign', CALL_SIDS[1]!, '\n'],
  ],
  maxBytes: 4096,
  setup,
  close: async () => admission.stop(),
  run,
};
