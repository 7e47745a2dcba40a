import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { once } from 'node:events';
import { test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { TcpBalancer } from '../../support/balancer.ts';

interface Target {
  name: string;
  port: number;
  sockets: Set<net.Socket>;
  close(): Promise<void>;
}

/** An http server answering its name, with a websocket echo on /echo. */
async function target(name: string): Promise<Target> {
  const server = http.createServer((_req, res) => res.end(name));
  const wss = new WebSocketServer({ server, path: '/echo' });
  wss.on('connection', (ws) => ws.on('message', (data: Buffer) => ws.send(`${name}:${data.toString()}`)));
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    name,
    port: (server.address() as net.AddressInfo).port,
    sockets,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One GET on a fresh connection (no keep-alive pool), so each request is a new balanced connection. */
function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(body));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

async function setup(): Promise<{ a: Target; b: Target; balancer: TcpBalancer; port: number }> {
  const a = await target('a');
  const b = await target('b');
  const balancer = new TcpBalancer([
    { host: '127.0.0.1', port: a.port },
    { host: '127.0.0.1', port: b.port },
  ]);
  const port = await balancer.listen();
  return { a, b, balancer, port };
}

test('requests alternate between the targets', async (t) => {
  const { a, b, balancer, port } = await setup();
  t.after(() => Promise.all([balancer.close(), a.close(), b.close()]));
  const answers: string[] = [];
  for (let i = 0; i < 4; i++) answers.push(await get(port));
  assert.deepEqual(answers, ['a', 'b', 'a', 'b']);
});

test('with one target down, every request is served by the other', async (t) => {
  const { a, b, balancer, port } = await setup();
  t.after(() => Promise.all([balancer.close(), b.close()]));
  await a.close();
  const answers: string[] = [];
  for (let i = 0; i < 4; i++) answers.push(await get(port));
  assert.deepEqual(answers, ['b', 'b', 'b', 'b']);
});

test('with every target down, the client connection is closed', async (t) => {
  const { a, b, balancer, port } = await setup();
  t.after(() => balancer.close());
  await Promise.all([a.close(), b.close()]);
  await assert.rejects(get(port), /socket hang up|ECONNRESET/);
  await waitFor(() => balancer.connections === 0);
});

test('a websocket echoes through the balancer', async (t) => {
  const { a, b, balancer, port } = await setup();
  t.after(() => Promise.all([balancer.close(), a.close(), b.close()]));
  const ws = new WebSocket(`ws://127.0.0.1:${port}/echo`);
  await once(ws, 'open');
  assert.equal(balancer.connections, 1);
  ws.send('hello');
  const [reply] = (await once(ws, 'message')) as [Buffer];
  assert.equal(reply.toString(), 'a:hello');
  ws.close();
  await once(ws, 'close');
  await waitFor(() => balancer.connections === 0);
});

test('when the target drops the connection mid-stream, the client sees it close', async (t) => {
  const { a, b, balancer, port } = await setup();
  t.after(() => Promise.all([balancer.close(), a.close(), b.close()]));
  const ws = new WebSocket(`ws://127.0.0.1:${port}/echo`);
  ws.on('error', () => {}); // the abrupt end may also surface as an error; the close is what is checked
  await once(ws, 'open');
  assert.equal(a.sockets.size, 1);
  const closed = once(ws, 'close');
  for (const socket of a.sockets) socket.destroy(); // the instance dies
  const [code] = (await closed) as [number];
  assert.equal(code, 1006); // closed without a closing handshake
  await waitFor(() => balancer.connections === 0);
});

test('close() destroys the live connections', async (t) => {
  const { a, b, balancer, port } = await setup();
  t.after(() => Promise.all([a.close(), b.close()]));
  const ws = new WebSocket(`ws://127.0.0.1:${port}/echo`);
  ws.on('error', () => {});
  await once(ws, 'open');
  const closed = once(ws, 'close');
  await balancer.close();
  await closed;
  assert.equal(balancer.connections, 0);
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
