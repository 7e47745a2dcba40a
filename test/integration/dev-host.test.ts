/**
 * DNS rebinding: the developer pages answer only to this server's own host names. And a form another site posts to
 * the unsigned webhooks (no auth token) places no call.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import { startServer, waitForLog, type TestServer } from '../support/harness.ts';

let server: TestServer;
before(async () => {
  server = await startServer({ softphone: true });
});
after(async () => {
  await server.close();
});

/** GET `path` with `host` as the Host header (fetch does not let a page set it; a rebinding browser sends it). */
function get(path: string, host: string): Promise<number> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

test('a foreign Host gets 403 from the pages and the softphone stream; our own names are served', async () => {
  const { port } = new URL(server.url);
  for (const path of ['/', '/calls', '/softphone/app.js']) {
    assert.equal(await get(path, `rebind.example:${port}`), 403, path);
    assert.equal(await get(path, `localhost:${port}`), 200, path);
    assert.equal(await get(path, `127.0.0.1:${port}`), 200, path);
  }
  await waitForLog(server.records, (r) => r.code === 'HTTP_FORBIDDEN');
  // The webhooks and health are not developer pages: Host does not matter to them.
  assert.equal(await get('/healthz', `rebind.example:${port}`), 200);

  const status = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/softphone/media?token=x`, {
      headers: { host: `rebind.example:${port}`, origin: `http://rebind.example:${port}` },
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => resolve(101));
  });
  assert.equal(status, 403);
});

test("another site's form posted to the unsigned voice webhook is refused and logged, and admits no call", async () => {
  const callSid = 'CA' + 'c'.repeat(32);
  const res = await fetch(server.url + '/twilio/voice', {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: 'https://evil.example',
      'sec-fetch-site': 'cross-site',
    },
    body: new URLSearchParams({ CallSid: callSid, From: '+15550001111' }).toString(),
  });
  assert.equal(res.status, 403);
  assert.equal(((await res.json()) as { error: string }).error, 'HTTP_CROSS_SITE');
  assert.equal(await server.journals.store.summary(callSid), null, 'no call was admitted');
  await waitForLog(server.records, (r) => r.code === 'HTTP_CROSS_SITE');
  // Twilio's own request (no browser headers) still gets its TwiML.
  const twilio = await fetch(server.url + '/twilio/voice', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ CallSid: callSid, From: '+15550001111' }).toString(),
  });
  assert.equal(twilio.status, 200);
});
