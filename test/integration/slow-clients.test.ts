/** Slow clients are cut off: headers or a body that never finish do not hold a socket for Node's 300 s. */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { RawStream, startServer, type TestServer } from '../support/harness.ts';

let server: TestServer;
before(async () => {
  server = await startServer({ httpTimeouts: { headersMs: 1000, requestMs: 2000 } });
});
after(async () => {
  await server.close();
});

/** Opens a socket, writes `text` and nothing more; resolves with what the server answered and when it closed. */
function trickle(text: string): Promise<{ answer: string; closedAfterMs: number }> {
  const { hostname, port } = new URL(server.url);
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve({ answer, closedAfterMs: performance.now() - startedAt }));
  });
}

test('headers that never finish, or a body that never comes, are answered 408 and closed', async () => {
  const [headers, body] = await Promise.all([
    trickle('POST /twilio/voice HTTP/1.1\r\nHost: x\r\nX-Slow: '),
    trickle(
      'POST /twilio/voice HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
        'Content-Length: 100\r\n\r\nCallSid=CA',
    ),
  ]);
  for (const [name, r, limit] of [
    ['headers', headers, 1000],
    ['body', body, 2000],
  ] as const) {
    assert.match(r.answer, /^HTTP\/1\.1 408/, `${name}: ${r.answer.slice(0, 40)}`);
    assert.ok(r.closedAfterMs >= limit && r.closedAfterMs < limit + 2500, `${name}: ${r.closedAfterMs} ms`);
  }
  // Meanwhile and after, the server answers.
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
});

test('sockets that never start a stream are not calls: /readyz counts none of them', async () => {
  const idle = Array.from({ length: 5 }, (_, i) => new RawStream(server.wsUrl, `CA${i}`));
  await Promise.all(idle.map((s) => s.opened));
  const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { calls: number };
  assert.equal(ready.calls, 0);
  for (const s of idle) s.ws.close();
});
