/** Web requests and transfers in flow diagrams: method and host notes, "done" and "error" edges. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DONE_LABEL,
  ERROR_LABEL,
  FALLBACK_LABEL,
  NO_CHOICE_LABEL,
  describeHttp,
  mermaidId,
  toDot,
  toMermaid,
} from '../../../src/flow/graph.ts';
import { validateFlow, type FlowFile } from '../../../src/flow/index.ts';
import { parseDot, parseMermaid } from './graph-helpers.ts';

/** A flow with web requests (with and without onError) and transfers (with and without onError). */
const orders: FlowFile = {
  id: 'orders',
  version: 1,
  start: 'ask',
  states: {
    ask: { say: 'How many?', collect: { slot: 'count', entity: 'number' }, next: 'order' },
    order: {
      say: 'One moment.',
      http: { url: 'https://api.example.com/v1/orders?n={{count}}', map: { eta: '/eta' } },
      next: [{ if: 'eta > 30', goto: 'slow' }, { goto: 'done' }],
      onError: 'agent',
    },
    slow: { say: 'That takes {{eta}} minutes.', next: 'status' },
    status: { http: { method: 'GET', url: '{{env.STATUS_URL}}/ping' }, next: 'done' },
    done: { say: 'Thanks.', hangup: true },
    agent: { say: 'Putting you through.', transfer: '{{env.SUPPORT_LINE}}', onError: 'bye' },
    bye: { say: 'Goodbye.', hangup: true },
  },
  policy: { fallback: 'bye' },
};

test('web requests show method and host, transfers hide the number; "done" and "error" edges', () => {
  const result = validateFlow(orders);
  assert.ok(result.ok, JSON.stringify(result.findings));
  assert.deepEqual(result.findings, []);
  const mermaid = toMermaid(orders);
  const { edges, shapes } = parseMermaid(mermaid);
  assert.deepEqual(edges, [
    'start ---> ask',
    'ask --done-> order',
    `order --${DONE_LABEL}: eta #62; 30-> slow`,
    `order --${DONE_LABEL}: else-> done`,
    `order --${ERROR_LABEL}-> agent`,
    'slow ---> status',
    'status --done-> done',
    `agent --${ERROR_LABEL}-> bye`,
    `ask -.${FALLBACK_LABEL}-> bye`,
    // Without onError, a failure goes to the fallback: dashed.
    `status -.${ERROR_LABEL}-> bye`,
  ]);
  assert.match(mermaid, /s_order\["order<br\/>\(POST api\.example\.com\)"\]/);
  assert.match(mermaid, /s_status\["status<br\/>\(GET #123;#123;env\.STATUS_URL#125;#125;\)"\]/);
  assert.match(mermaid, /s_agent\(\["agent<br\/>\(transfer\)"\]\)/);
  assert.equal(shapes.get(mermaidId('agent')), '([');
  assert.ok(!mermaid.includes('SUPPORT_LINE'), 'the number is not drawn');
  assert.ok(!mermaid.includes('v1') && !mermaid.includes('?n='), 'the path and query are not drawn');

  const dot = toDot(orders);
  assert.match(dot, /^ {2}"order" \[label="order\\n\(POST api\.example\.com\)"\];$/m);
  assert.match(dot, /^ {2}"agent" \[label="agent\\n\(transfer\)", peripheries=2\];$/m);
  assert.match(dot, /^ {2}"status" -> "bye" \[label="error", style=dashed\];$/m);
  const unescape = (e: string): string =>
    e.replace(/#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)));
  assert.deepEqual(parseDot(dot).edges, edges.map(unescape));
});

test('without a fallback, a failing request or transfer ends at "could not continue"', () => {
  const flow: FlowFile = {
    id: 'no-fallback',
    version: 1,
    start: 'look',
    states: {
      look: { http: { url: 'https://x.example/a', map: { n: '/n' } }, next: [{ if: 'n', goto: 'agent' }] },
      agent: { transfer: '+15555550100' },
    },
  };
  assert.ok(validateFlow(flow).ok, JSON.stringify(validateFlow(flow).findings));
  const { edges } = parseMermaid(toMermaid(flow));
  assert.deepEqual(edges, [
    'start ---> look',
    'look --done: n-> agent',
    `look -.${NO_CHOICE_LABEL}-> could not continue`,
    `look -.${ERROR_LABEL}-> could not continue`,
    `agent -.${ERROR_LABEL}-> could not continue`,
  ]);
  assert.ok(!toMermaid(flow).includes('555') && !toDot(flow).includes('555'), 'the number is not drawn');
});

test('the request note: method and host only, never credentials; cut to 40 characters', () => {
  assert.equal(describeHttp({ url: 'https://api.example.com/orders/{{id}}' }), 'POST api.example.com');
  assert.equal(
    describeHttp({ method: 'PUT', url: 'http://user:secret@h.example:8080/x' }),
    'PUT h.example:8080',
  );
  assert.equal(describeHttp({ method: 'GET', url: '{{ env.BASE }}/v1?x=1' }), 'GET {{ env.BASE }}');
  assert.equal(describeHttp({ url: 'https://{{env.HOST}}.example.com/x' }), 'POST {{env.HOST}}.example.com');
  assert.equal(describeHttp({ url: 'https://h.example?q={{phone}}' }), 'POST h.example');
  const long = describeHttp({ method: 'DELETE', url: `https://${'a'.repeat(60)}.example/x` });
  assert.equal(long.length, 40);
  assert.ok(long.startsWith('DELETE aaaa') && long.endsWith('…'));
  // Hostile text stays inside the label in both formats.
  const flow: FlowFile = {
    id: 'hostile',
    version: 1,
    start: 'a',
    states: {
      a: { http: { url: 'https://"];x[<b>|{{env.A}}/' }, next: 'b', onError: 'b' },
      b: { say: 'Bye.', hangup: true },
    },
  };
  assert.ok(validateFlow(flow).ok);
  const mermaid = toMermaid(flow);
  assert.equal(parseMermaid(mermaid).edges.length, 3);
  assert.match(mermaid, /\(POST #34;#93;;x#91;#60;b#62;#124;#123;#123;env\.A#125;#125;\)/);
  assert.equal(parseDot(toDot(flow)).edges.length, 3);
});
