/** Actions: web requests, their mapped slots, transfers, onError and env templates. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  staticChecks,
  validateFlow,
  type Finding,
  type FlowFile,
  type StateDef,
} from '../../../src/flow/index.ts';
import { check, errors, flowOf } from './validate-helpers.ts';

/** Each fixture breaks one rule of web requests, transfers, onError or env templates. */
const ACTION_FIXTURES: [string, boolean, [Finding['severity'], string, RegExp][]][] = [
  ['http-without-next.json', false, [['error', '/states/order/http', /needs "next"/]]],
  [
    'http-url.json',
    false,
    [['error', '/states/order/http/url', /must start with "http:\/\/" or "https:\/\/"/]],
  ],
  [
    'http-method.json',
    false,
    [['error', '/states/order/http/method', /one of GET, POST, PUT, PATCH, DELETE/]],
  ],
  ['http-get-body.json', false, [['error', '/states/order/http/body', /^a GET request has no body$/]]],
  [
    'http-headers.json',
    false,
    [
      ['error', '/states/order/http/headers/X Token', /header name is letters, digits and "-"/],
      ['error', '/states/order/http/headers/Idempotency-Key', /Idempotency-Key is set by Switchboard/],
      ['error', '/states/order/http/headers/content-type', /also given as "Content-Type"/],
    ],
  ],
  [
    'http-limits.json',
    false,
    [
      ['error', '/states/order/http/timeoutMs', /from 100 to 30000/],
      ['error', '/states/order/http/retries', /from 0 to 5/],
    ],
  ],
  [
    'http-map.json',
    false,
    [
      ['error', '/states/order/http/map/order id', /slot name/],
      ['error', '/states/order/http/map/eta', /JSON pointer/],
      ['error', '/states/order/http/map/code', /JSON pointer/],
    ],
  ],
  ['http-with-input.json', false, [['error', '/states/order/http', /cannot also wait for input/]]],
  ['http-hangup.json', false, [['error', '/states/order/hangup', /web request cannot also hang up/]]],
  [
    'http-transfer.json',
    false,
    [['error', '/states/order/transfer', /web request or transfers the call, not both/]],
  ],
  ['transfer-number.json', false, [['error', '/states/agent/transfer', /must be an E\.164 number/]]],
  ['transfer-next.json', false, [['error', '/states/agent/next', /transfers the call has no "next"/]]],
  ['transfer-hangup.json', false, [['error', '/states/agent/hangup', /transfers the call does not hang up/]]],
  ['transfer-with-input.json', false, [['error', '/states/agent/transfer', /cannot also wait for input/]]],
  [
    'on-error-misplaced.json',
    false,
    [['error', '/states/hello/onError', /onError applies only to a state with "http" or "transfer"/]],
  ],
  ['on-error-unknown.json', false, [['error', '/states/order/onError', /^unknown state "sory"$/]]],
  [
    'env-name.json',
    false,
    [
      ['error', '/states/order/say', /"\{\{env\.Region\}\}" is not an environment variable name/],
      ['error', '/states/order/http/url', /"\{\{env\.orders_url\}\}" is not an environment variable name/],
    ],
  ],
  [
    'http-slot-on-error.json',
    false,
    [
      [
        'error',
        '/states/sorry/say',
        /slot "orderId" may be spoken before it is collected: the path "order" -> "sorry"/,
      ],
    ],
  ],
  [
    'http-body-slot.json',
    false,
    [['error', '/states/order/http/body/items/0/name', /slot "pizza", which no state collects or sets/]],
  ],
  [
    'http-slot-in-request.json',
    false,
    [
      [
        'error',
        '/states/order/http/url',
        /slot "orderId" may be used before it is collected.*before the answer is stored/,
      ],
    ],
  ],
];

test('each rule of http, transfer, onError and env templates has its finding', async () => {
  for (const [file, ok, expected] of ACTION_FIXTURES) {
    const result = await check(file);
    assert.equal(result.ok, ok, `${file}: ${JSON.stringify(result.findings)}`);
    assert.deepEqual(
      result.findings.map((f) => [f.severity, f.pointer]),
      expected.map(([severity, pointer]) => [severity, pointer]),
      file,
    );
    expected.forEach(([, , pattern], i) => assert.match(result.findings[i]?.message ?? '', pattern, file));
  }
});

/** An order flow: ask, send the order, read back what the service answered. */
function orderFlow(order: Partial<StateDef> = {}, extra: Partial<FlowFile> = {}): FlowFile {
  return flowOf(
    {
      ask: { say: 'How many?', collect: { slot: 'count', entity: 'number' }, next: 'order' },
      order: {
        say: 'One moment.',
        http: {
          method: 'POST',
          url: '{{env.ORDERS_URL}}/orders',
          headers: { Authorization: 'Bearer {{env.ORDERS_TOKEN}}' },
          body: {
            count: '{{count}}',
            items: [{ kind: 'pizza', note: '{{env.SHOP_NAME|digits}}' }],
            rush: false,
          },
          timeoutMs: 3000,
          retries: 1,
          map: { orderId: '/id', eta: '/delivery/minutes', whole: '' },
        },
        next: [{ if: 'eta > 30', goto: 'slow' }, { goto: 'done' }],
        onError: 'agent',
        ...order,
      },
      slow: { say: 'Order {{orderId|digits}} takes {{eta}} minutes, sorry.', hangup: true },
      done: { say: 'Order {{orderId}} is on its way.', hangup: true },
      agent: { say: 'Let me put you through.', transfer: '{{env.SUPPORT_LINE}}', onError: 'bye' },
      bye: { say: 'Please call again later. Goodbye.', hangup: true },
    },
    extra,
  );
}

test('a web request, its mapped slots, a transfer and env templates validate without findings', () => {
  const result = validateFlow(orderFlow());
  assert.ok(result.ok, JSON.stringify(result.findings));
  assert.deepEqual(result.findings, []);
  const literal = orderFlow();
  literal.states.agent = { say: 'Transferring.', transfer: '+442071838750', onError: 'bye' };
  assert.deepEqual(validateFlow(literal).findings, []);
});

test('env names are never slots: no "no state collects it", no "read before collected"', () => {
  const result = validateFlow(
    flowOf({ hi: { say: 'Welcome to {{ env.SHOP_NAME }}, {{env._X1|digits}}.', hangup: true } }),
  );
  assert.deepEqual(result.findings, []);
  // A slot of the same spelling without "env." is a slot, and must be collected.
  const slot = validateFlow(flowOf({ hi: { say: 'Welcome to {{SHOP_NAME}}.', hangup: true } }));
  assert.deepEqual(
    errors(slot.findings).map((f) => [f.pointer, f.message]),
    [['/states/hi/say', 'template uses slot "SHOP_NAME", which no state collects or sets']],
  );
  const filter = validateFlow(flowOf({ hi: { say: '{{env.SHOP|loud}}', hangup: true } }));
  assert.match(errors(filter.findings)[0]?.message ?? '', /unknown template filter "loud"/);
  const bad = validateFlow(flowOf({ hi: { say: '{{env.}} {{env.1X}} {{env.A.B}}', hangup: true } }));
  assert.equal(errors(bad.findings).length, 3);
});

test('mapped slots are stored on the success path only', () => {
  // The error path reads a mapped slot.
  const onError = orderFlow({ onError: 'slow' });
  assert.deepEqual(
    errors(validateFlow(onError).findings).map((f) => f.message.slice(0, 13)),
    ['slot "eta" ma', 'slot "orderId'],
  );
  assert.ok(errors(validateFlow(onError).findings).every((f) => f.pointer === '/states/slow/say'));
  // A condition of onError reads a mapped slot: a warning, it sees the slot empty.
  const condition = orderFlow({ onError: [{ if: 'orderId', goto: 'done' }, { goto: 'agent' }] });
  const findings = validateFlow(condition).findings;
  assert.deepEqual(
    findings.map((f) => [f.severity, f.pointer]),
    [
      ['warning', '/states/order/onError/0/if'],
      // onError leads to "done" too, which speaks the slot.
      ['error', '/states/done/say'],
    ],
  );
  // The request itself cannot use what its answer will fill.
  const own = orderFlow();
  own.states.order = { ...own.states.order, say: 'Looking up {{eta}}.' };
  assert.deepEqual(
    errors(validateFlow(own).findings).map((f) => f.pointer),
    ['/states/order/say'],
  );
});

test('http and transfer states are ways in and out: onError, and the fallback when it is absent', () => {
  const flow = orderFlow({ onError: undefined }, { policy: { fallback: 'bye' } });
  delete flow.states.order?.onError;
  // "agent" is now reached by nothing.
  assert.deepEqual(
    staticChecks(flow).map((f) => [f.severity, f.pointer]),
    [['warning', '/states/agent']],
  );
  // Without onError on the transfer either, "bye" stays reachable through the fallback.
  flow.states.order = { ...flow.states.order, onError: 'agent' };
  flow.states.agent = { say: 'Transferring.', transfer: '+15555550100' };
  assert.deepEqual(staticChecks(flow), []);
  delete flow.policy;
  assert.deepEqual(
    staticChecks(flow).map((f) => [f.severity, f.pointer]),
    [['warning', '/states/bye']],
  );
});

test('a transfer is an end: no dead end; an http state needs next but no onError', () => {
  const transfer = validateFlow(flowOf({ agent: { say: 'Transferring.', transfer: '+15555550100' } }));
  assert.ok(transfer.ok, JSON.stringify(transfer.findings));
  const silent = validateFlow(
    flowOf({
      look: { http: { method: 'GET', url: 'https://x.example/{{env.ID}}' }, next: 'bye' },
      bye: { say: 'Bye.', hangup: true },
    }),
  );
  assert.deepEqual(silent.findings, []);
});

test('a cycle through a web request is not a talking loop: the call waits on the network', () => {
  const states: Record<string, StateDef> = {
    poll: { say: 'Checking your order.', http: { method: 'GET', url: 'https://x.example/s' }, next: 'wait' },
    wait: { say: 'Still cooking.', next: 'poll' },
  };
  assert.deepEqual(staticChecks(flowOf(states)), []);
  // The same cycle without the request talks forever.
  states.poll = { say: 'Checking your order.', next: 'wait' };
  assert.deepEqual(
    staticChecks(flowOf(states)).map((f) => [f.severity, f.pointer]),
    [['error', '/states/poll/next']],
  );
});

test('http and transfer shapes: wrong types and unknown keys are errors where they are', () => {
  const result = validateFlow(
    flowOf({
      a: { http: 'https://x.example' as never, next: 'b' },
      b: {
        http: {
          url: ' ',
          verb: 'GET',
          headers: { A: 1 },
          body: ['x'],
          map: 'id',
        } as never,
        next: 'c',
      },
      c: {
        http: { url: 'https://x.example', method: null, body: { deep: [[{ t: '{{nope}}' }]] } } as never,
        next: 'd',
      },
      d: { transfer: 15555550100 as never },
      e: { transfer: '{{ bad', onError: 'd' },
    }),
  );
  assert.deepEqual(
    errors(result.findings).map((f) => f.pointer),
    [
      '/states/a/http',
      '/states/b/http/verb',
      '/states/b/http/url',
      '/states/b/http/headers/A',
      '/states/b/http/body',
      '/states/b/http/map',
      '/states/c/http/method',
      '/states/c/http/body/deep/0/0/t',
      '/states/d/transfer',
      '/states/e/transfer',
    ],
  );
});

test('a body nested thousands deep is checked without overflowing the stack', () => {
  let body: unknown = '{{missing}}';
  for (let i = 0; i < 20_000; i++) body = [body];
  const flow = flowOf({
    a: { http: { url: 'https://x.example', body: { deep: body } }, next: 'b' },
    b: { say: 'Bye.', hangup: true },
  });
  const result = validateFlow(flow);
  assert.deepEqual(
    errors(result.findings).map((f) => f.message),
    ['template uses slot "missing", which no state collects or sets'],
  );
});
