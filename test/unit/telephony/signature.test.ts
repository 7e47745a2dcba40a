import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  isValidStreamSignature,
  isValidTwilioSignature,
  signTwilioRequest,
} from '../../../src/telephony/signature.ts';

const TOKEN = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
const URL_ = 'https://abc.ngrok.app/twilio/voice?flow=dentist';
const PARAMS = {
  CallSid: 'CA0123456789abcdef0123456789abcdef',
  AccountSid: 'AC0123456789abcdef0123456789abcdef',
  From: '+15551230000',
  To: '+15559870000',
  CallStatus: 'ringing',
};

/** Twilio's documented algorithm, written out independently: HMAC-SHA1 over url + sorted key+value, base64. */
function referenceSignature(token: string, url: string, params: Record<string, string>): string {
  let data = url;
  for (const key of Object.keys(params).sort()) data += key + params[key];
  return createHmac('sha1', token).update(data, 'utf8').digest('base64');
}

test("signatures match Twilio's published example vector", () => {
  // The example from Twilio's security docs, also used by its official SDKs' tests.
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const params = {
    CallSid: 'CA1234567890ABCDE',
    Caller: '+14158675309',
    Digits: '1234',
    From: '+14158675309',
    To: '+18005551212',
  };
  assert.equal(referenceSignature('12345', url, params), 'RSOYDt4T1cUTdK1PDd93/VVr8B8=');
  assert.equal(signTwilioRequest('12345', url, params), 'RSOYDt4T1cUTdK1PDd93/VVr8B8=');
  assert.equal(isValidTwilioSignature('12345', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', url, params), true);
});

test('signTwilioRequest agrees with the independent computation, whatever the key order', () => {
  const reordered = Object.fromEntries(Object.entries(PARAMS).reverse());
  const expected = referenceSignature(TOKEN, URL_, PARAMS);
  assert.equal(signTwilioRequest(TOKEN, URL_, PARAMS), expected);
  assert.equal(signTwilioRequest(TOKEN, URL_, reordered), expected);
  assert.equal(signTwilioRequest(TOKEN, URL_, {}), referenceSignature(TOKEN, URL_, {}));
});

test('a signature made with signTwilioRequest validates', () => {
  const sig = signTwilioRequest(TOKEN, URL_, PARAMS);
  assert.equal(isValidTwilioSignature(TOKEN, sig, URL_, PARAMS), true);
});

test('wrong token, tampered or extra param, missing signature and other URLs are rejected', () => {
  const sig = signTwilioRequest(TOKEN, URL_, PARAMS);
  assert.equal(isValidTwilioSignature('another-token', sig, URL_, PARAMS), false);
  assert.equal(isValidTwilioSignature(TOKEN, sig, URL_, { ...PARAMS, To: '+15559870001' }), false);
  assert.equal(isValidTwilioSignature(TOKEN, sig, URL_, { ...PARAMS, Digits: '1' }), false);
  const { CallStatus: _dropped, ...fewer } = PARAMS;
  assert.equal(isValidTwilioSignature(TOKEN, sig, URL_, fewer), false);
  assert.equal(isValidTwilioSignature(TOKEN, undefined, URL_, PARAMS), false);
  assert.equal(isValidTwilioSignature(TOKEN, '', URL_, PARAMS), false);
  assert.equal(isValidTwilioSignature('', sig, URL_, PARAMS), false);
  assert.equal(
    isValidTwilioSignature(TOKEN, sig, 'https://abc.ngrok.app/twilio/voice?flow=other', PARAMS),
    false,
  );
  assert.equal(
    isValidTwilioSignature(TOKEN, sig, 'https://evil.example/twilio/voice?flow=dentist', PARAMS),
    false,
  );
  assert.equal(isValidTwilioSignature(TOKEN, sig.slice(0, -2), URL_, PARAMS), false);
  assert.equal(isValidTwilioSignature(TOKEN, sig, 'not a url', PARAMS), false);
});

test('the default https port is accepted either way (Twilio signs without it)', () => {
  const sig = signTwilioRequest(TOKEN, 'https://abc.ngrok.app/twilio/voice', PARAMS);
  assert.equal(isValidTwilioSignature(TOKEN, sig, 'https://abc.ngrok.app:443/twilio/voice', PARAMS), true);
});

test('websocket upgrade: signed over the exact wss URL with empty params, with or without trailing slash', () => {
  const url = 'wss://abc.ngrok.app/twilio/media';
  const sig = signTwilioRequest(TOKEN, url, {});
  assert.equal(sig, referenceSignature(TOKEN, url, {}));
  assert.equal(isValidStreamSignature(TOKEN, sig, url), true);
  // Twilio may have signed the other form of the path.
  assert.equal(isValidStreamSignature(TOKEN, sig, url + '/'), true);
  const slashSig = signTwilioRequest(TOKEN, url + '/', {});
  assert.equal(isValidStreamSignature(TOKEN, slashSig, url), true);
  // But nothing looser than that.
  assert.equal(isValidStreamSignature(TOKEN, sig, url + '//'), false);
  assert.equal(isValidStreamSignature(TOKEN, sig, 'wss://abc.ngrok.app/twilio/media2'), false);
  assert.equal(isValidStreamSignature(TOKEN, sig, 'ws://abc.ngrok.app/twilio/media'), false);
  assert.equal(isValidStreamSignature('another-token', sig, url), false);
  assert.equal(isValidStreamSignature(TOKEN, undefined, url), false);
  assert.equal(isValidStreamSignature(TOKEN, signTwilioRequest(TOKEN, url, { a: 'b' }), url), false);
});

test('while the token is rotated, a signature made with either token is accepted, with no other', () => {
  const primary = TOKEN;
  const secondary = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
  const tokens = [primary, secondary];
  const byPrimary = signTwilioRequest(primary, URL_, PARAMS);
  const bySecondary = signTwilioRequest(secondary, URL_, PARAMS);
  assert.equal(isValidTwilioSignature(tokens, byPrimary, URL_, PARAMS), true);
  assert.equal(isValidTwilioSignature(tokens, bySecondary, URL_, PARAMS), true);
  // The secondary alone is not the primary: without rotation, only the one token counts.
  assert.equal(isValidTwilioSignature(primary, bySecondary, URL_, PARAMS), false);
  const byThird = signTwilioRequest('a-third-token', URL_, PARAMS);
  assert.equal(isValidTwilioSignature(tokens, byThird, URL_, PARAMS), false);
  // Each token is held to the same request: a tampered form fails under both.
  assert.equal(isValidTwilioSignature(tokens, bySecondary, URL_, { ...PARAMS, To: '+15559870001' }), false);
  assert.equal(isValidTwilioSignature(tokens, undefined, URL_, PARAMS), false);
});

test('an absent or empty secondary token adds nothing, not even an empty key', () => {
  const byEmpty = signTwilioRequest('', URL_, PARAMS);
  assert.equal(isValidTwilioSignature([TOKEN, null], byEmpty, URL_, PARAMS), false);
  assert.equal(isValidTwilioSignature([TOKEN, ''], byEmpty, URL_, PARAMS), false);
  assert.equal(
    isValidTwilioSignature([TOKEN, undefined], signTwilioRequest(TOKEN, URL_, PARAMS), URL_, PARAMS),
    true,
  );
  assert.equal(isValidTwilioSignature([], signTwilioRequest(TOKEN, URL_, PARAMS), URL_, PARAMS), false);
});

test('websocket upgrade during rotation: either token, either form of the path', () => {
  const url = 'wss://abc.ngrok.app/twilio/media/ticket-1';
  const secondary = 'rotated-token-0123456789abcdef';
  const tokens = [TOKEN, secondary];
  assert.equal(isValidStreamSignature(tokens, signTwilioRequest(TOKEN, url, {}), url), true);
  assert.equal(isValidStreamSignature(tokens, signTwilioRequest(secondary, url, {}), url), true);
  assert.equal(isValidStreamSignature(tokens, signTwilioRequest(secondary, url + '/', {}), url), true);
  assert.equal(isValidStreamSignature(tokens, signTwilioRequest('third', url, {}), url), false);
  assert.equal(isValidStreamSignature(TOKEN, signTwilioRequest(secondary, url, {}), url), false);
});
