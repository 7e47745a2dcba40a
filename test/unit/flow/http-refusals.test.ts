/**
 * A web request refused before anything is sent: a header a value broke, a path a value climbed out of, a host
 * that is not public and not allowed. Each is a typed outcome, not retried, logged naming the host only. The
 * network here is a fake that records what it was asked, so no DNS is needed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { performHttp, type HttpEffect, type HttpNetwork } from '../../../src/flow/index.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';

const never = new AbortController().signal;

function effect(over: Partial<HttpEffect> = {}): HttpEffect {
  return {
    type: 'http',
    id: 'place.3',
    idempotencyKey: 'CA1:place.3',
    method: 'POST',
    url: 'https://orders.example/orders/5551234',
    headers: {},
    body: { phone: '+15551234567' },
    timeoutMs: 2000,
    retries: 3,
    map: {},
    ...over,
  };
}

/** A network whose names resolve as `dns` says; it records every lookup and every address sent to. */
function fakeNetwork(dns: Record<string, string[]>) {
  const lookups: string[] = [];
  const sent: { address: string; url: string; host: string | null }[] = [];
  const network: HttpNetwork = {
    resolve: (host) => {
      lookups.push(host);
      return Promise.resolve(dns[host] ?? []);
    },
    send: (address, url, init) => {
      sent.push({ address, url: url.href, host: new Headers(init.headers).get('host') });
      return Promise.resolve(new Response('{}', { status: 200 }));
    },
  };
  return { network, lookups, sent };
}

/** A fetch that must not be called. */
const noFetch: typeof fetch = () => Promise.reject(new Error('fetch must not be called'));

test('a header value with CR/LF (or another control character) is refused, typed, and nothing is sent', async () => {
  for (const value of ['token\r\nX-Admin: yes', 'a\nb', 'a\u0000b', 'a\u007fb']) {
    const { network, sent, lookups } = fakeNetwork({ 'orders.example': ['93.184.216.34'] });
    const { logger, records } = memoryLogger();
    const outcome = await performHttp(effect({ headers: { 'X-Caller': value } }), never, { logger, network });
    assert.deepEqual(outcome, {
      ok: false,
      code: 'HTTP_VALUE_REFUSED',
      reason: 'request header "X-Caller" has a control character',
    });
    assert.equal(sent.length + lookups.length, 0, 'nothing looked up or sent');
    const line = records.find((r) => r.msg === 'http action refused');
    assert.equal(line?.code, 'HTTP_VALUE_REFUSED');
    assert.doesNotMatch(JSON.stringify({ ...line, pii: null }), /X-Admin|token/);
  }
  // A tab is allowed in a header value.
  const { network, sent } = fakeNetwork({ 'orders.example': ['93.184.216.34'] });
  const ok = await performHttp(effect({ headers: { 'X-Caller': 'a\tb' } }), never, {
    logger: memoryLogger().logger,
    network,
  });
  assert.equal(ok.ok, true);
  assert.equal(sent.length, 1);
});

test('a URL whose path has a "." or ".." segment is refused before it is parsed away', async () => {
  const { network, sent } = fakeNetwork({ 'orders.example': ['93.184.216.34'] });
  const outcome = await performHttp(effect({ url: 'https://orders.example/orders/%2e%2E/admin' }), never, {
    logger: memoryLogger().logger,
    network,
  });
  assert.deepEqual(outcome, {
    ok: false,
    code: 'HTTP_VALUE_REFUSED',
    reason: 'the URL\'s path has a "." or ".." segment',
  });
  assert.equal(sent.length, 0);
});

test('a host that resolves to a private address is refused after one lookup, not retried, host logged', async () => {
  const { network, sent, lookups } = fakeNetwork({ 'orders.example': ['93.184.216.34', '10.0.0.7'] });
  const { logger, records } = memoryLogger();
  const outcome = await performHttp(effect(), never, { logger, network, fetch: noFetch });
  assert.deepEqual(outcome, {
    ok: false,
    code: 'HTTP_EGRESS_REFUSED',
    reason:
      "refused: orders.example resolves to 10.0.0.7, a private address (allow it with HTTP_ALLOW_HOSTS or the state's http.allowPrivate)",
  });
  assert.deepEqual(lookups, ['orders.example'], 'one attempt: trying again would not help');
  assert.equal(sent.length, 0);
  const line = records.find((r) => r.msg === 'http action refused');
  assert.ok(line, 'a warning names the refusal');
  assert.equal(line.level, 'warn');
  assert.equal(line.code, 'HTTP_EGRESS_REFUSED');
  assert.equal(line.host, 'orders.example');
  assert.equal(line.address, '10.0.0.7');
  assert.equal(line.range, 'private');
  // The caller's data (in the path and body) is only ever under pii.
  assert.doesNotMatch(JSON.stringify({ ...line, pii: null }), /5551234/);
});

test('IP literals are checked without a lookup, in every range; the allow-list and the state both allow', async () => {
  for (const host of [
    '127.0.0.1',
    '[::1]',
    '169.254.169.254',
    '10.1.2.3',
    '[fd00::1]',
    '0.0.0.0',
    '100.64.0.1',
    '[::ffff:7f00:1]',
  ]) {
    const { network, sent, lookups } = fakeNetwork({});
    const outcome = await performHttp(effect({ url: `http://${host}:8080/x` }), never, {
      logger: memoryLogger().logger,
      network,
    });
    assert.equal(!outcome.ok && outcome.code, 'HTTP_EGRESS_REFUSED', host);
    assert.equal(lookups.length + sent.length, 0, host);
  }
  const { network, sent } = fakeNetwork({});
  const byEnv = await performHttp(effect({ url: 'http://127.0.0.1:8080/x' }), never, {
    logger: memoryLogger().logger,
    network,
    allow: ['127.0.0.1'],
  });
  const byState = await performHttp(
    effect({ url: 'http://10.1.2.3/x', allowPrivate: ['10.0.0.0/8'] }),
    never,
    {
      logger: memoryLogger().logger,
      network,
      allow: ['127.0.0.1'],
    },
  );
  assert.equal(byEnv.ok && byState.ok, true);
  assert.deepEqual(
    sent.map((s) => s.address),
    ['127.0.0.1', '10.1.2.3'],
  );
});

test('the request goes to the very address checked, with the URL of the name; a flow cannot set Host', async () => {
  const { network, sent, lookups } = fakeNetwork({ 'orders.example': ['93.184.216.34', '2606:2800::1'] });
  const outcome = await performHttp(effect({ headers: { Host: 'other.example' } }), never, {
    logger: memoryLogger().logger,
    network,
  });
  assert.equal(outcome.ok, true);
  assert.deepEqual(lookups, ['orders.example'], 'looked up once, never again before connecting');
  assert.deepEqual(sent, [
    { address: '93.184.216.34', url: 'https://orders.example/orders/5551234', host: null },
  ]);
});

test('without a network port, a fetch is used and only hosts needing no lookup are checked', async () => {
  const calls: string[] = [];
  const fake: typeof fetch = (input, init) => {
    calls.push(`${input instanceof URL ? input.href : 'not a URL'} ${init?.redirect ?? ''}`);
    return Promise.resolve(new Response('{}', { status: 200 }));
  };
  const logger = memoryLogger().logger;
  assert.equal((await performHttp(effect(), never, { logger, fetch: fake })).ok, true);
  const local = await performHttp(effect({ url: 'http://localhost:9/x' }), never, { logger, fetch: fake });
  assert.match(
    !local.ok ? local.reason : '',
    /^refused: localhost resolves to 127\.0\.0\.1, a loopback address \(allow it/,
  );
  assert.deepEqual(calls, ['https://orders.example/orders/5551234 manual'], 'redirects are not followed');
});

test('a redirect is a failure, not followed, and not retried', async () => {
  let n = 0;
  const redirecting: typeof fetch = () => {
    n++;
    return Promise.resolve(
      new Response(null, { status: 302, headers: { location: 'http://169.254.169.254/' } }),
    );
  };
  const outcome = await performHttp(effect(), never, { logger: memoryLogger().logger, fetch: redirecting });
  assert.deepEqual(outcome, { ok: false, reason: 'HTTP 302 (redirects are not followed)' });
  assert.equal(n, 1);
});
