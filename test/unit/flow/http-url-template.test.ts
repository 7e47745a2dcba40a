/**
 * Where a value lands in a web request: a slot is encoded for its part of the URL and can never reach the host;
 * the flow validator refuses a slot in the scheme, host or port; a header or path that could not hold a value
 * safely is refused when the request is made.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createActor } from 'xstate';
import {
  compileFlow,
  validateFlow,
  type CallInfo,
  type Effect,
  type FlowFile,
} from '../../../src/flow/index.ts';
import {
  hasDotSegment,
  renderUrl,
  slotsInAuthority,
  urlPartAfter,
} from '../../../src/flow/actions/http/url-template.ts';
import { renderTemplate } from '../../../src/flow/template.ts';

const HOSTILE = 'x/../../admin?y=1#';

/** Render `template` as a state's request would, with these slots, environment and call. */
function url(
  template: string,
  slots: Record<string, string>,
  env: Record<string, string> = {},
  call?: CallInfo,
): string {
  return renderUrl(template, (placeholder) => renderTemplate(placeholder, slots, { env, call }));
}

test('a slot in the path stays one segment: "/", "?", "#" and ".." in it are data', () => {
  const rendered = url('https://api.example/accounts/{{account}}/orders', { account: HOSTILE });
  assert.equal(rendered, 'https://api.example/accounts/x%2F..%2F..%2Fadmin%3Fy%3D1%23/orders');
  const parsed = new URL(rendered);
  assert.equal(parsed.host, 'api.example');
  assert.equal(parsed.pathname, '/accounts/x%2F..%2F..%2Fadmin%3Fy%3D1%23/orders');
  assert.equal(parsed.search, '');
  assert.equal(parsed.hash, '');
  assert.equal(decodeURIComponent(parsed.pathname.split('/')[2]!), HOSTILE);
  assert.equal(hasDotSegment(rendered), false);
});

test('a slot in the query is one component: "&", "=" and "#" in it cannot add or change parameters', () => {
  const rendered = url(
    '{{env.BASE}}/search?q={{q}}&limit=5',
    { q: 'a&limit=500#x y+z' },
    { BASE: 'https://api.example' },
  );
  const parsed = new URL(rendered);
  assert.equal(parsed.host, 'api.example');
  assert.equal(parsed.searchParams.get('q'), 'a&limit=500#x y+z');
  assert.deepEqual(parsed.searchParams.getAll('limit'), ['5']);
  assert.equal(parsed.hash, '');
});

test('the flow text and {{env.NAME}} values are taken as written; filters apply before encoding', () => {
  const env = { BASE: 'http://127.0.0.1:8080/api/v2?key=k1' };
  assert.equal(
    url('{{env.BASE}}&id={{id}}', { id: '7/8' }, env),
    'http://127.0.0.1:8080/api/v2?key=k1&id=7%2F8',
  );
  assert.equal(url('https://api.example/{{n|digits}}', { n: '12' }), 'https://api.example/1%2C%202');
  assert.equal(url('https://api.example/a/{{missing}}', {}), 'https://api.example/a/');
  // An unpaired surrogate (a broken transcript) is replaced rather than thrown on.
  assert.equal(url('https://api.example/{{t}}', { t: 'a\uD800b' }), 'https://api.example/a%EF%BF%BDb');
});

test("a slot that lands in the scheme, host or port renders as nothing: the host is the flow's alone", () => {
  for (const template of [
    'https://{{h}}/x',
    'https://api.example{{h}}/x',
    'https://api.example:{{h}}/x',
    '{{h}}',
  ]) {
    const a = url(template, { h: 'evil.example' });
    const b = url(template, { h: '@evil.example:80/' });
    assert.equal(a, b, template);
    assert.doesNotMatch(a, /evil/, template);
  }
});

test("the call's numbers are caller data: encoded as a slot value is, and never in the scheme or host", () => {
  const call: CallInfo = { direction: 'inbound', from: '+1 555/../admin?x=1#', to: 'client:alice' };
  const rendered = url('https://api.example/callers/{{call.from}}?to={{call.to}}', {}, {}, call);
  assert.equal(rendered, url('https://api.example/callers/{{n}}?to={{t}}', { n: call.from!, t: call.to! }));
  const parsed = new URL(rendered);
  assert.equal(parsed.host, 'api.example');
  assert.equal(decodeURIComponent(parsed.pathname.split('/')[2]!), '+1 555/../admin?x=1#');
  assert.equal(parsed.searchParams.get('to'), 'client:alice');
  assert.equal(
    url('https://api.example/{{call.from|digits}}', {}, {}, { direction: 'inbound', from: '12' }),
    'https://api.example/1%2C%202',
  );
  // In the host it renders as nothing, like a slot; the validator refuses it there.
  const evil: CallInfo = { direction: 'inbound', from: 'evil.example' };
  assert.doesNotMatch(url('https://{{call.from}}/x', {}, {}, evil), /evil/);
  assert.deepEqual(slotsInAuthority('https://{{call.from}}.example/{{call.to}}'), ['call.from']);
  assert.deepEqual(slotsInAuthority('{{env.BASE}}{{call.to}}'), ['call.to']);
});

test('the part of a URL text lands in', () => {
  assert.equal(urlPartAfter(''), 'authority');
  assert.equal(urlPartAfter('https://'), 'authority');
  assert.equal(urlPartAfter('https://api.example:8080'), 'authority');
  assert.equal(urlPartAfter('https://user:pw@api.example'), 'authority');
  assert.equal(urlPartAfter('https://api.example/'), 'path');
  assert.equal(urlPartAfter('https://api.example\\a'), 'path');
  assert.equal(urlPartAfter('https://api.example/a?'), 'query');
  assert.equal(urlPartAfter('https://api.example?q='), 'query');
  assert.equal(urlPartAfter('https://api.example/a?q=1#'), 'fragment');
});

test('slotsInAuthority finds slots before the flow text ends the host; env values may be whole base URLs', () => {
  assert.deepEqual(slotsInAuthority('https://{{host}}/x'), ['host']);
  assert.deepEqual(slotsInAuthority('https://{{sub}}.example.com/{{id}}'), ['sub']);
  assert.deepEqual(slotsInAuthority('https://api.example.com:{{port}}/x'), ['port']);
  assert.deepEqual(slotsInAuthority('https://user:{{pin}}@api.example/x'), ['pin']);
  assert.deepEqual(slotsInAuthority('{{base}}/x'), ['base']);
  // Right after an env value, a slot could be in its host: `{{env.BASE}}` may be `https://api.example`.
  assert.deepEqual(slotsInAuthority('{{env.BASE}}{{path}}'), ['path']);
  assert.deepEqual(slotsInAuthority('https://{{env.HOST}}{{path}}'), ['path']);
  assert.deepEqual(slotsInAuthority('{{env.BASE}}/accounts/{{id}}?q={{q}}'), []);
  assert.deepEqual(slotsInAuthority('https://{{env.HOST}}:{{env.PORT}}/{{id}}'), []);
  assert.deepEqual(slotsInAuthority('https://api.example?{{q}}'), []);
});

test('hasDotSegment finds "." and ".." path segments in any encoding, and only in the path', () => {
  for (const yes of [
    'https://a.example/x/../y',
    'https://a.example/./y',
    'https://a.example/x/%2E%2e',
    'https://a.example/x/.%2E/y',
    'https://a.example/x/..',
    'https://a.example\\..\\y',
  ]) {
    assert.equal(hasDotSegment(yes), true, yes);
  }
  for (const no of [
    'https://a.example/x/..y',
    'https://a.example/x/.../y',
    'https://a.example/x?p=/../',
    'https://a.example/x#/../',
    'https://a.example',
    'https://a.example/',
  ]) {
    assert.equal(hasDotSegment(no), false, no);
  }
});

/** A flow whose one request is `http`, made once its prompt is heard. */
function flowWith(http: Record<string, unknown>, headers?: Record<string, string>): FlowFile {
  return {
    id: 'requests',
    version: 1,
    start: 'place',
    states: {
      place: {
        say: 'One moment.',
        set: { account: HOSTILE, note: '"}, "admin": true, "x": {"' },
        http: {
          url: '{{env.BASE}}/accounts/{{account}}?again={{account}}',
          ...(headers ? { headers } : {}),
          ...http,
        },
        next: 'done',
        onError: 'sorry',
      },
      done: { say: 'Done.', hangup: true },
      sorry: { say: 'Sorry.', hangup: true },
    },
  };
}

function requestOf(
  flow: FlowFile,
  env: Record<string, string>,
  call?: CallInfo,
): Extract<Effect, { type: 'http' }> {
  const actor = createActor(compileFlow(flow).machine);
  const effects: Effect[] = [];
  actor.on('*', (e) => effects.push(e));
  actor.start();
  actor.send({ type: 'call.start', at: 1, callId: 'CA1', env, ...(call ? { call } : {}) });
  const say = effects.find((e) => e.type === 'say');
  assert.ok(say?.type === 'say');
  actor.send({ type: 'played', at: 2, mark: say.mark });
  const http = effects.find((e) => e.type === 'http');
  assert.ok(http?.type === 'http');
  return http;
}

test("a state's request: slots encoded in the URL, JSON strings in the body, allowPrivate carried when set", () => {
  const env = { BASE: 'https://api.example' };
  const http = requestOf(flowWith({ body: { note: '{{note}}' } }), env);
  const parsed = new URL(http.url);
  assert.equal(parsed.host, 'api.example');
  assert.equal(parsed.pathname, '/accounts/x%2F..%2F..%2Fadmin%3Fy%3D1%23');
  assert.equal(parsed.searchParams.get('again'), HOSTILE);
  // The body is serialized whole when sent: the value stays one string, adding no key.
  assert.deepEqual(JSON.parse(JSON.stringify(http.body)), { note: '"}, "admin": true, "x": {"' });
  assert.equal('allowPrivate' in http, false, 'absent unless the state sets it, as journaled before');
  const allowed = requestOf(flowWith({ allowPrivate: ['127.0.0.1', '10.0.0.0/8'] }), env);
  assert.deepEqual(allowed.allowPrivate, ['127.0.0.1', '10.0.0.0/8']);
});

/** The validator's findings at `pointer`. */
function findingsAt(flow: FlowFile, pointer: string): string[] {
  const result = validateFlow(flow);
  return result.findings.filter((f) => f.pointer === pointer && f.severity === 'error').map((f) => f.message);
}

test("a state's request reads the call's numbers: encoded in the URL, as sent in headers and body", () => {
  const call: CallInfo = { direction: 'outbound', from: '+15555550100', to: '+1 555/0199' };
  const flow = flowWith(
    {
      url: '{{env.BASE}}/callers/{{call.to}}?from={{call.from}}&dir={{call.direction}}',
      body: { from: '{{call.from}}' },
    },
    { 'X-Caller': '{{call.from}}' },
  );
  assert.equal(validateFlow(flow).ok, true, 'call. names are not slots that must be collected');
  const http = requestOf(flow, { BASE: 'https://api.example' }, call);
  const parsed = new URL(http.url);
  assert.equal(parsed.host, 'api.example');
  assert.equal(parsed.pathname, '/callers/%2B1%20555%2F0199');
  assert.equal(parsed.searchParams.get('from'), '+15555550100');
  assert.equal(parsed.searchParams.get('dir'), 'outbound');
  assert.deepEqual(http.body, { from: '+15555550100' });
  assert.equal(http.headers['X-Caller'], '+15555550100');
  // A call journaled without `call` is inbound, numbers unknown.
  const old = requestOf(flow, { BASE: 'https://api.example' });
  assert.equal(new URL(old.url).search, '?from=&dir=inbound');
});

test("the validator refuses a slot in the url's scheme, host or port, naming it", () => {
  const at = '/states/place/http/url';
  for (const template of [
    'https://{{account}}.example/x',
    '{{env.BASE}}{{account}}',
    'https://api.example:{{account}}/x',
  ]) {
    const messages = findingsAt(flowWith({ url: template }), at);
    assert.equal(messages.length, 1, template);
    assert.match(messages[0]!, /\{\{account\}\} is in the url's scheme, host or port/);
  }
  assert.deepEqual(findingsAt(flowWith({}), at), []);
  assert.equal(validateFlow(flowWith({})).ok, true);
  assert.equal(validateFlow(flowWith({ url: 'https://{{account}}/x' })).ok, false);
  assert.deepEqual(findingsAt(flowWith({ url: 'https://{{call.from}}.example/x' }), at), [
    "{{call.from}} is in the url's scheme, host or port: a caller's value cannot choose where a request goes",
  ]);
});

test('the validator checks allowPrivate entries and refuses a Host header', () => {
  assert.equal(
    validateFlow(flowWith({ allowPrivate: ['127.0.0.1', 'orders.internal', 'fd00::/8'] })).ok,
    true,
  );
  assert.deepEqual(
    findingsAt(flowWith({ allowPrivate: ['127.0.0.1', '10.0.0.0/40'] }), '/states/place/http/allowPrivate/1'),
    ['"10.0.0.0/40" is not a host name, an IP address or a CIDR range such as 10.0.0.0/8'],
  );
  assert.equal(
    findingsAt(flowWith({ allowPrivate: '127.0.0.1' }), '/states/place/http/allowPrivate').length,
    1,
  );
  assert.deepEqual(findingsAt(flowWith({}, { Host: 'other.example' }), '/states/place/http/headers/Host'), [
    'Host is set from the url',
  ]);
});
