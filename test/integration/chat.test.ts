import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';

const BIN = new URL('../../bin/switchboard.js', import.meta.url).pathname;
const FLOWS = new URL('../../flows', import.meta.url).pathname;

/** Run `switchboard chat` with `input` on standard input; resolves with its output and exit code. */
function chat(
  args: string[],
  input: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'chat', ...args], {
      env: { ...process.env, FLOWS_DIR: FLOWS, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => resolve({ code, out, err }));
    child.stdin.end(input);
  });
}

test('switchboard chat: typed turns and keys drive a flow to its end, showing state and slots', async (ctx) => {
  // A test double for the pizzeria's order service, on a real local port.
  const keys: string[] = [];
  const orders = createServer((req, res) => {
    keys.push(String(req.headers['idempotency-key']));
    res.end(JSON.stringify({ id: 'A17', readyInMinutes: 25 }));
  });
  await new Promise<void>((resolve) => orders.listen(0, '127.0.0.1', resolve));
  ctx.after(() => orders.close());
  const url = `http://127.0.0.1:${(orders.address() as AddressInfo).port}`;
  // The double is on loopback: allowed for this run only.
  const env = { ORDERS_URL: url, HTTP_ALLOW_HOSTS: '127.0.0.1' };
  const { code, out } = await chat(['pizza'], 'i want to order\n#3\nthree\nyes\n', env);
  assert.equal(code, 0);
  assert.match(out, /^agent: Thanks for calling Mario's/);
  assert.match(out, /\[count\] size="large"/);
  assert.match(out, /\[confirm\] size="large" count="3"/);
  assert.match(out, /agent: Good news: orders of three or more get ten percent off\./);
  assert.match(out, /agent: Your order number is A, 1, 7\. It will be ready in 25 minutes\. Goodbye\./);
  assert.match(out, /\(the flow ended the call\)\n$/);

  // A service that honours idempotency keys must see a second conversation as a new order, not a repeat.
  const again = await chat(['pizza'], 'i want to order\n#3\nthree\nyes\n', env);
  assert.equal(again.code, 0);
  assert.equal(keys.length, 2);
  assert.notEqual(keys[0], keys[1]);
  assert.match(keys[0]!, /^chat-[0-9a-f]{12}:place\.\d+$/);
});

test('switchboard chat: end of input hangs up; a broken flow is refused with the validate report', async () => {
  const hung = await chat(['demo'], '#2\n');
  assert.equal(hung.code, 0);
  assert.match(hung.out, /\[callback\]/);
  assert.match(hung.out, /\(the caller hung up\)/);

  const refused = await chat(['test/fixtures/flows/talking-loop.json'], '');
  assert.equal(refused.code, 1);
  assert.match(refused.err, /talking-loop\.json: error \/states\/news\/next talking loop/);
});
