import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { placeCall } from '../../src/simulator/caller.ts';
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

  test('the media websocket upgrade needs a signature over the stream URL', async () => {
    const unsigned = new RawStream(server.wsUrl, 'CA' + '2'.repeat(32));
    await assert.rejects(unsigned.opened, /HTTP 403/);
    const wrong = new RawStream(server.wsUrl, 'CA' + '3'.repeat(32), { 'x-twilio-signature': 'bm9wZQ==' });
    await assert.rejects(wrong.opened, /HTTP 403/);
    await waitForLog(
      server.records,
      (r) => r.msg === 'websocket upgrade refused' && r.code === 'HTTP_FORBIDDEN',
    );
    const signed = new RawStream(server.wsUrl, 'CA' + '4'.repeat(32), {
      'x-twilio-signature': signTwilioRequest(TOKEN, server.wsUrl, {}),
    });
    await signed.opened;
    signed.ws.close();
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
