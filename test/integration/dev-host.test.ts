/** DNS rebinding: the developer pages answer only to this server's own host names. */
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
