import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isE164 } from '../../../src/common/e164.ts';
import { escapeXml } from '../../../src/common/xml.ts';
import { isSwitchboardError } from '../../../src/errors.ts';
import {
  connectStream,
  dialTwiml,
  hangup,
  httpUrlFor,
  sayThenHangup,
  streamUrlFor,
} from '../../../src/telephony/twiml.ts';

const HEADER = '<?xml version="1.0" encoding="UTF-8"?>';

/** Reverses the five predefined entities and numeric references: what an XML parser hands back. */
function unescapeXml(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|apos|#\d+);/g, (_m, e: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    return named[e] ?? String.fromCharCode(Number(e.slice(1)));
  });
}

/**
 * A tiny well-formedness check: tags balance, attribute values are quoted and contain no raw `<`, `&` (outside an
 * entity) or quote, and text contains no raw `<`/`>`/`&`. Returns the element names in document order.
 */
function checkXml(xml: string): string[] {
  assert.ok(xml.startsWith(HEADER));
  const body = xml.slice(HEADER.length);
  const token =
    /<(\/?)([A-Za-z]+)((?:\s+[A-Za-z]+="[^"<&]*(?:&(?:amp|lt|gt|quot|apos|#\d+);[^"<&]*)*")*)\s*(\/?)>/y;
  const text = /[^<>&]*(?:&(?:amp|lt|gt|quot|apos|#\d+);[^<>&]*)*/y;
  const stack: string[] = [];
  const names: string[] = [];
  let at = 0;
  while (at < body.length) {
    text.lastIndex = at;
    at += text.exec(body)![0].length;
    if (at >= body.length) break;
    token.lastIndex = at;
    const m = token.exec(body);
    assert.ok(m, `malformed XML at ${at}: ${body.slice(at, at + 40)}`);
    const [whole, close, name, , selfClose] = m;
    if (close) assert.equal(stack.pop(), name, `unbalanced </${name}>`);
    else {
      names.push(name!);
      if (!selfClose) stack.push(name!);
    }
    at += whole.length;
  }
  assert.deepEqual(stack, [], 'unclosed elements');
  return names;
}

function attr(xml: string, element: string, name: string): string | undefined {
  const m = new RegExp(`<${element}\\b[^>]*?\\s${name}="([^"]*)"`).exec(xml);
  return m ? unescapeXml(m[1]!) : undefined;
}

function throwsConfig(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => isSwitchboardError(err, 'CONFIG_INVALID'));
}

const BASE = {
  actionUrl: 'https://example.com/twilio/connect-ended',
  streamUrl: 'wss://example.com/twilio/media',
};

test('the XML check used below catches unescaped and unbalanced markup', () => {
  assert.throws(() => checkXml(`${HEADER}<Response><Say>a & b</Say></Response>`));
  assert.throws(() => checkXml(`${HEADER}<Response><Parameter value="a"b"/></Response>`));
  assert.throws(() => checkXml(`${HEADER}<Response><Connect></Response>`));
  assert.deepEqual(checkXml(`${HEADER}<Response><Say>a &amp; b</Say></Response>`), ['Response', 'Say']);
});

test('escapeXml escapes all five special characters and round-trips', () => {
  assert.equal(escapeXml(`a & b < c > d " e ' f`), 'a &amp; b &lt; c &gt; d &quot; e &apos; f');
  assert.equal(escapeXml('&amp;'), '&amp;amp;', 'already-escaped text is escaped again');
  assert.equal(escapeXml('plain text, unicode é ✓'), 'plain text, unicode é ✓');
  assert.equal(escapeXml('line1\nline2\tx\r'), 'line1&#10;line2&#9;x&#13;');
  assert.equal(escapeXml('bell\u0007'), 'bell\uFFFD');
  const nasty = `"><Hangup/><Say x='&`;
  assert.equal(unescapeXml(escapeXml(nasty)), nasty);
});

test('connectStream: structure, with every special character escaped in parameters', () => {
  const nasty = `Tom & "Jerry" <o'brien> ></Stream><Hangup/>`;
  const xml = connectStream({
    ...BASE,
    parameters: { callId: 'c-1', [`we'ird&"name"`]: nasty },
  });
  assert.deepEqual(checkXml(xml), ['Response', 'Connect', 'Stream', 'Parameter', 'Parameter']);
  assert.ok(xml.includes('<Response><Connect action='), xml);
  assert.equal(attr(xml, 'Connect', 'action'), BASE.actionUrl);
  assert.equal(attr(xml, 'Stream', 'url'), BASE.streamUrl);
  assert.equal(attr(xml, 'Stream', 'statusCallback'), undefined);
  const params = [...xml.matchAll(/<Parameter name="([^"]*)" value="([^"]*)"\/>/g)].map((m) => [
    unescapeXml(m[1]!),
    unescapeXml(m[2]!),
  ]);
  assert.deepEqual(params, [
    ['callId', 'c-1'],
    [`we'ird&"name"`, nasty],
  ]);
  assert.ok(!xml.includes('<Hangup/>'), 'injected markup stays text');
});

test('connectStream escapes URLs and adds statusCallback when given', () => {
  const xml = connectStream({
    actionUrl: 'https://example.com/twilio/connect-ended?call=1&turn=2',
    streamUrl: BASE.streamUrl,
    parameters: {},
    statusCallbackUrl: 'https://example.com/twilio/stream-status?a=1&b=2',
  });
  checkXml(xml);
  assert.ok(xml.includes('action="https://example.com/twilio/connect-ended?call=1&amp;turn=2"'));
  assert.equal(attr(xml, 'Stream', 'statusCallback'), 'https://example.com/twilio/stream-status?a=1&b=2');
  assert.ok(xml.includes('<Stream url="wss://example.com/twilio/media" statusCallback='));
  assert.ok(xml.includes('></Stream></Connect></Response>'));
});

test('connectStream rejects stream URLs Twilio would refuse', () => {
  for (const streamUrl of [
    'wss://example.com/twilio/media?call=1',
    'wss://example.com/twilio/media?',
    'wss://example.com/twilio/media#x',
    'https://example.com/twilio/media',
    'example.com/twilio/media',
    'wss://',
  ]) {
    throwsConfig(() => connectStream({ ...BASE, streamUrl, parameters: {} }));
  }
  // Local tests use plain ws.
  assert.ok(connectStream({ ...BASE, streamUrl: 'ws://127.0.0.1:8080/twilio/media', parameters: {} }));
});

test('connectStream rejects a parameter whose name and value reach 500 characters', () => {
  const ok = connectStream({ ...BASE, parameters: { n: 'v'.repeat(498) } });
  assert.ok(ok.includes('v'.repeat(498)));
  throwsConfig(() => connectStream({ ...BASE, parameters: { n: 'v'.repeat(499) } }));
  throwsConfig(() => connectStream({ ...BASE, parameters: { ['n'.repeat(250)]: 'v'.repeat(250) } }));
  throwsConfig(() => connectStream({ ...BASE, parameters: { '': 'v' } }));
  // The value itself never appears in the error.
  assert.throws(
    () => connectStream({ ...BASE, parameters: { caller: '+15551234567'.repeat(50) } }),
    (err: unknown) => isSwitchboardError(err, 'CONFIG_INVALID') && !JSON.stringify(err).includes('+1555'),
  );
});

test('hangup and sayThenHangup', () => {
  assert.equal(hangup(), `${HEADER}<Response><Hangup/></Response>`);
  const xml = sayThenHangup(`Sorry, we're closed <now> & "later".`);
  assert.deepEqual(checkXml(xml), ['Response', 'Say', 'Hangup']);
  assert.equal(
    xml,
    `${HEADER}<Response><Say>Sorry, we&apos;re closed &lt;now&gt; &amp; &quot;later&quot;.</Say><Hangup/></Response>`,
  );
});

test('streamUrlFor turns https into wss and http into ws, keeping host and port', () => {
  const cases: Array<[string, string, string]> = [
    ['https://abc.ngrok.app', '/twilio/media', 'wss://abc.ngrok.app/twilio/media'],
    ['https://abc.ngrok.app/', '/twilio/media', 'wss://abc.ngrok.app/twilio/media'],
    ['https://abc.ngrok.app//', 'twilio/media', 'wss://abc.ngrok.app/twilio/media'],
    ['http://127.0.0.1:8080', '/twilio/media', 'ws://127.0.0.1:8080/twilio/media'],
    ['http://localhost:3000/', 'twilio/media', 'ws://localhost:3000/twilio/media'],
    ['https://example.com:8443/base/', '/twilio/media', 'wss://example.com:8443/base/twilio/media'],
    ['https://example.com/base', 'twilio/media/', 'wss://example.com/base/twilio/media/'],
    ['HTTPS://Example.com', '/twilio/media', 'wss://Example.com/twilio/media'],
    ['http://[::1]:8080', '/twilio/media', 'ws://[::1]:8080/twilio/media'],
  ];
  for (const [publicUrl, path, expected] of cases) assert.equal(streamUrlFor(publicUrl, path), expected);
});

test('httpUrlFor keeps the scheme and joins paths, query strings allowed in the path', () => {
  assert.equal(httpUrlFor('https://abc.ngrok.app/', '/twilio/voice'), 'https://abc.ngrok.app/twilio/voice');
  assert.equal(httpUrlFor('http://127.0.0.1:8080', 'twilio/status'), 'http://127.0.0.1:8080/twilio/status');
  assert.equal(
    httpUrlFor('https://example.com/base/', '/twilio/connect-ended?call=1'),
    'https://example.com/base/twilio/connect-ended?call=1',
  );
});

test('bad public URLs and query strings in a stream path are rejected', () => {
  for (const publicUrl of [
    'ftp://example.com',
    'wss://example.com',
    'example.com',
    'https://',
    'https://x.com?a=1',
  ]) {
    throwsConfig(() => streamUrlFor(publicUrl, '/twilio/media'));
    throwsConfig(() => httpUrlFor(publicUrl, '/twilio/voice'));
  }
  throwsConfig(() => streamUrlFor('https://example.com', '/twilio/media?call=1'));
});

test('isE164 accepts + and 7 to 15 digits with no leading zero, nothing else', () => {
  for (const n of ['+15555550100', '+442071838750', '+4930123456', '+1234567', '+123456789012345']) {
    assert.equal(isE164(n), true, n);
  }
  for (const n of [
    '15555550100',
    '+05555550100',
    '+123456',
    '+1234567890123456',
    '+1 555 555 0100',
    '+1-555-555-0100',
    '+1555555010a',
    '',
    '+',
    '+15555550100\n',
  ]) {
    assert.equal(isE164(n), false, JSON.stringify(n));
  }
});

test('dialTwiml: <Dial><Number> with optional callerId, timeout and an escaped absolute action', () => {
  assert.equal(
    dialTwiml('+15555550100'),
    `${HEADER}<Response><Dial><Number>+15555550100</Number></Dial></Response>`,
  );
  const action = `https://example.com/twilio/dial-ended?call=1&leg="2"<x>`;
  const xml = dialTwiml('+15555550100', { callerId: '+15555550199', timeoutS: 20, action });
  assert.deepEqual(checkXml(xml), ['Response', 'Dial', 'Number']);
  assert.equal(attr(xml, 'Dial', 'callerId'), '+15555550199');
  assert.equal(attr(xml, 'Dial', 'timeout'), '20');
  assert.equal(attr(xml, 'Dial', 'action'), action);
  assert.ok(xml.includes('?call=1&amp;leg=&quot;2&quot;&lt;x&gt;"'), xml);
  assert.ok(xml.endsWith('><Number>+15555550100</Number></Dial></Response>'));
  assert.ok(
    dialTwiml('+15555550100', { action: 'http://127.0.0.1:8080/twilio/dial-ended' }).includes('action='),
  );
});

test('dialTwiml rejects non-E.164 numbers without repeating them, and bad caller IDs, timeouts and actions', () => {
  const invalidDial = (fn: () => unknown, secret?: string) =>
    assert.throws(fn, (err: unknown) => {
      if (!isSwitchboardError(err, 'CALL_CONTROL_INVALID')) return false;
      return secret === undefined || !(err.message + JSON.stringify(err.data)).includes(secret);
    });
  for (const to of ['5555550100', '+1 (555) 555-0100', '+05555550100', '</Number><Hangup/>', 'sip:a@b.com']) {
    invalidDial(() => dialTwiml(to), to);
  }
  invalidDial(() => dialTwiml('+15555550100', { callerId: '555-0199' }), '555-0199');
  invalidDial(() => dialTwiml('+15555550100', { callerId: '"/><Hangup/>' }));
  for (const timeoutS of [4, 601, 1.5, Number.NaN])
    invalidDial(() => dialTwiml('+15555550100', { timeoutS }));
  assert.ok(dialTwiml('+15555550100', { timeoutS: 5 }).includes('timeout="5"'));
  assert.ok(dialTwiml('+15555550100', { timeoutS: 600 }).includes('timeout="600"'));
  for (const action of [
    '/twilio/dial-ended',
    'twilio/dial-ended',
    'ftp://example.com/x',
    'wss://example.com/x',
    'https://',
    '',
  ]) {
    invalidDial(() => dialTwiml('+15555550100', { action }));
  }
});
