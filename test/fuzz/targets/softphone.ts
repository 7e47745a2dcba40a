/**
 * Fuzz target: the softphone's API as Softphone serves it: listing flows, placing calls (a JSON body), a placed
 * call's live view as server-sent events, and the check of its websocket upgrade. An input is a request
 * (http-input.ts); `!token` is a fresh page token and `!call` the call the last request placed, so mutants reach
 * past the token to the handlers. Only HTTP_* and FLOW_NOT_FOUND may be thrown; a route handled is answered (a
 * live view once its page goes away), a call placed answers its ticket, and an upgrade check names a refusal
 * or accepts.
 */
import fc from 'fast-check';
import { CallViews } from '../../../src/call/call-view.ts';
import { Logger } from '../../../src/observability/logger.ts';
import { PageTokens, SOFTPHONE_TOKEN_PURPOSE } from '../../../src/server/softphone-token.ts';
import { Softphone } from '../../../src/server/softphone.ts';
import { testJournals } from '../../fixtures/journals.ts';
import { FakeResponse, fakeRequest, formatHttpInput, parseHttpInput } from '../http-input.ts';
import { check, codesOf, typedAsync, type FuzzTarget } from '../target.ts';
import { exampleFlows } from './webhooks.ts';

const ANSWERED = new Set([...codesOf('HTTP'), 'FLOW_NOT_FOUND' as const]);
const UPGRADE_ANSWERS = new Set([null, 'HTTP_TOKEN_INVALID', 'HTTP_FORBIDDEN']);

const request: fc.Arbitrary<Buffer> = fc
  .record({
    route: fc.constantFrom(
      'POST /softphone/calls',
      'POST /softphone/calls',
      'GET /softphone/flows',
      'GET /softphone/calls/!call/events?token=!token',
      'GET /softphone/media?token=!token',
      'GET /',
      'GET /softphone/app.js',
      'PUT /softphone/calls',
    ),
    token: fc.constantFrom('!token', '!token', '', 'x.y.z'),
    type: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain'),
    origin: fc.constantFrom('http://127.0.0.1:8080', 'http://evil.example', 'null', ''),
    body: fc.oneof(
      fc
        .record({ flow: fc.constantFrom('pizza', 'demo', 'nope', '') }, { requiredKeys: [] })
        .map((b) => JSON.stringify(b)),
      fc.json({ maxDepth: 2 }),
      fc.constant(''),
    ),
  })
  .map((r) => {
    const space = r.route.indexOf(' ');
    return formatHttpInput({
      method: r.route.slice(0, space),
      target: r.route.slice(space + 1),
      headers: {
        host: '127.0.0.1:8080',
        'content-type': r.type,
        ...(r.token ? { 'x-softphone-token': r.token } : {}),
        ...(r.origin ? { origin: r.origin } : {}),
      },
      body: Buffer.from(r.body),
    });
  });

let softphone: Softphone;
let tokens: PageTokens;
let lastCall = 'CA00000000000000000000000000000000';

async function setup(): Promise<void> {
  const journals = await testJournals();
  const flows = exampleFlows();
  tokens = new PageTokens({ secret: () => journals.deriveKey(SOFTPHONE_TOKEN_PURPOSE) });
  softphone = new Softphone({
    flows,
    defaultFlow: 'demo',
    journals,
    logger: new Logger({ level: 'error', sink: () => {} }),
    draining: () => false,
    tokens,
    views: new CallViews(),
    heartbeatMs: 60_000,
  });
}

async function run(input: Buffer): Promise<void> {
  const r = parseHttpInput(input);
  const token = tokens.mint();
  const fill = (s: string): string => s.replaceAll('!token', token).replaceAll('!call', lastCall);
  r.target = fill(r.target);
  for (const [k, v] of Object.entries(r.headers)) r.headers[k] = fill(v);
  if (!URL.canParse(r.target, 'http://localhost')) return;
  const path = new URL(r.target, 'http://localhost').pathname.replace(/\/+$/, '') || '/';
  const route = `${r.method} ${path}`;
  const refusal = softphone.refuseUpgrade(fakeRequest(r));
  check(UPGRADE_ANSWERS.has(refusal), `the upgrade check answered ${String(refusal)}`);
  const res = new FakeResponse();
  const handled = await typedAsync(ANSWERED, () => softphone.handle(fakeRequest(r), res.asResponse, route));
  // The page goes away: a live view must end its stream then.
  res.close();
  if (handled !== true) return;
  check(res.finished, `${route} was handled but never answered`);
  if (route === 'POST /softphone/calls') {
    const placed = JSON.parse(res.body) as { callSid?: unknown; params?: { token?: unknown } };
    check(typeof placed.callSid === 'string' && typeof placed.params?.token === 'string', 'no ticket');
    lastCall = placed.callSid;
  }
}

export const softphoneTarget: FuzzTarget = {
  name: 'softphone',
  format: 'text',
  arbitrary: request,
  dictionary: [
    ...['{"flow":"pizza"}', '{"flow":', '"flow"', 'null', '[]', '/softphone/calls', '/events', '?token='],
    ...['x-softphone-token: !token', 'origin: ', 'host: ', 'content-type: application/json', '!call', '\n'],
  ],
  maxBytes: 4096,
  setup,
  run,
};
