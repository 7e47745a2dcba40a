import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { placeCall } from '../../src/simulator/caller.ts';
import { readTwiml } from '../../src/simulator/twiml-reader.ts';
import { signTwilioRequest } from '../../src/telephony/signature.ts';
import { RawStream, startServer, waitForLog, type TestServer } from '../support/harness.ts';

const TOKEN = 'test-auth-token-0123456789abcdef';

describe('with TWILIO_AUTH_TOKEN set, every Twilio request must be signed', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ authToken: TOKEN });
  });
  after(async () => {
    await server.close();
  });

  const post = (path: string, params: Record<string, string>, signature?: string) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(signature !== undefined ? { 'x-twilio-signature': signature } : {}),
      },
      body: new URLSearchParams(params).toString(),
    });

  for (const path of ['/twilio/voice', '/twilio/status', '/twilio/connect-ended']) {
    test(`${path}: valid signature accepted, missing or wrong rejected with 403`, async () => {
      const params = { CallSid: 'CA' + '1'.repeat(32), CallStatus: 'ringing', From: '+15550001111' };
      const good = await post(path, params, signTwilioRequest(TOKEN, server.url + path, params));
      assert.ok(good.status === 200 || good.status === 204, `signed request got ${good.status}`);
      assert.equal((await post(path, params)).status, 403);
      assert.equal(
        (await post(path, params, signTwilioRequest('wrong-token', server.url + path, params))).status,
        403,
      );
      const tampered = { ...params, CallStatus: 'completed' };
      assert.equal(
        (await post(path, tampered, signTwilioRequest(TOKEN, server.url + path, params))).status,
        403,
      );
    });
  }

  /** A signed voice webhook for a new call: its stream's URL and parameters, as Twilio would read them. */
  const answer = async (path: string, callSid: string) => {
    const params = { CallSid: callSid, From: '+15550001111', To: '+15550002222' };
    const res = await post(path, params, signTwilioRequest(TOKEN, server.url + path, params));
    return { status: res.status, connect: res.status === 200 ? readTwiml(await res.text()).connect : null };
  };
  const signedStream = (url: string, callSid: string, signedUrl = url): RawStream =>
    new RawStream(url, callSid, { 'x-twilio-signature': signTwilioRequest(TOKEN, signedUrl, {}) });

  test('the media websocket upgrade needs a signature over the stream URL, which names the ticket', async () => {
    const callSid = 'CA' + '2'.repeat(32);
    const { connect } = await answer('/twilio/voice', callSid);
    const url = connect!.streamUrl;
    assert.equal(url, `${server.wsUrl}/${connect!.parameters.token}`);
    const unsigned = new RawStream(url, callSid);
    await assert.rejects(unsigned.opened, /HTTP 403/);
    const wrong = new RawStream(url, callSid, { 'x-twilio-signature': 'bm9wZQ==' });
    await assert.rejects(wrong.opened, /HTTP 403/);
    await waitForLog(
      server.records,
      (r) => r.msg === 'websocket upgrade refused' && r.code === 'HTTP_FORBIDDEN',
    );
    const bare = signedStream(server.wsUrl, callSid);
    await assert.rejects(bare.opened, /HTTP 404/, 'a stream URL without a ticket is not taken');
    const signed = signedStream(url, callSid);
    await signed.opened;
    signed.ws.close();
  });

  test('a captured webhook re-sent for a call in progress cannot take the call over', async () => {
    const callSid = 'CA' + '5'.repeat(32);
    const first = await answer('/twilio/voice', callSid);
    const caller = signedStream(first.connect!.streamUrl, callSid);
    await caller.opened;
    caller.send(caller.enc.connected());
    caller.send(caller.enc.start(first.connect!.parameters));
    await caller.waitFor((m) => m.includes('"event":"media"'));

    // The voice webhook comes once per call: re-sent, it gets no ticket at all.
    assert.equal((await answer('/twilio/voice', callSid)).status, 409);
    await waitForLog(
      server.records,
      (r) => r.msg === 'http request refused' && r.code === 'HTTP_CALL_EXISTS',
    );
    // connect-ended gives a ticket, but only for a stream URL the attacker cannot sign, and takes nothing.
    const replayed = await answer('/twilio/connect-ended', callSid);
    const stolen = replayed.connect!;
    assert.notEqual(stolen.streamUrl, first.connect!.streamUrl);
    const withCapturedSignature = signedStream(stolen.streamUrl, callSid, first.connect!.streamUrl);
    await assert.rejects(withCapturedSignature.opened, /HTTP 403/);
    // On the captured URL and signature, neither the new ticket nor the old one attaches.
    for (const parameters of [stolen.parameters, first.connect!.parameters]) {
      const attacker = signedStream(first.connect!.streamUrl, callSid);
      await attacker.opened;
      attacker.send(attacker.enc.connected());
      attacker.send(attacker.enc.start(parameters));
      const { code } = await attacker.closed;
      assert.equal(code, 1008, 'refused by policy');
    }
    await waitForLog(server.records, (r) => r.code === 'RESUME_REFUSED' && r.callId === callSid);

    // The caller's stream was never fenced: its keys still reach the call.
    caller.send(caller.enc.dtmf('1'));
    await waitForLog(server.records, (r) => r.msg === 'dtmf received' && r.callId === callSid);
    const open = await Promise.race([caller.closed.then(() => false), delay(300).then(() => true)]);
    assert.ok(open, 'the caller is still connected');
    caller.ws.close();
  });

  test('a signed simulated call goes through end to end', async () => {
    const result = await placeCall({
      url: server.url,
      authToken: TOKEN,
      inputs: [{ kind: 'dtmf', keys: '1' }],
    });
    assert.equal(result.timeline.filter((e) => e.kind === 'agent').length, 3);
    assert.equal(result.endedBy, 'agent');
  });
});

describe('with TWILIO_AUTH_TOKEN_SECONDARY set during a rotation, either token signs', () => {
  const SECONDARY = 'rotated-auth-token-fedcba9876543210';
  let server: TestServer;
  before(async () => {
    server = await startServer({ authToken: TOKEN, authTokenSecondary: SECONDARY });
  });
  after(async () => {
    await server.close();
  });

  const post = (path: string, params: Record<string, string>, token: string) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': signTwilioRequest(token, server.url + path, params),
      },
      body: new URLSearchParams(params).toString(),
    });

  test('a webhook signed with the secondary token is accepted; one signed with a third token gets 403', async () => {
    const params = { CallSid: 'CA' + '7'.repeat(32), CallStatus: 'ringing', From: '+15550001111' };
    const bySecondary = await post('/twilio/status', params, SECONDARY);
    assert.equal(bySecondary.status, 204);
    assert.equal((await post('/twilio/status', params, TOKEN)).status, 204);
    assert.equal((await post('/twilio/status', params, 'a-third-token-0000')).status, 403);
  });

  test('the voice webhook and the media websocket take the secondary token too, and refuse a third', async () => {
    const callSid = 'CA' + '8'.repeat(32);
    const params = { CallSid: callSid, From: '+15550001111', To: '+15550002222' };
    const res = await post('/twilio/voice', params, SECONDARY);
    assert.equal(res.status, 200);
    const { connect } = readTwiml(await res.text());
    const url = connect!.streamUrl;
    const third = new RawStream(url, callSid, { 'x-twilio-signature': signTwilioRequest('third', url, {}) });
    await assert.rejects(third.opened, /HTTP 403/);
    const signed = new RawStream(url, callSid, {
      'x-twilio-signature': signTwilioRequest(SECONDARY, url, {}),
    });
    await signed.opened;
    signed.ws.close();
  });
});
