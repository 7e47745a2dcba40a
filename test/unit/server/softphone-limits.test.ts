/**
 * The softphone's bounds on placing calls: a page places at most MAX_UNSTARTED calls whose streams have not
 * started, and a call whose stream never starts is closed in its journal, so a flood neither succeeds nor leaves
 * calls open forever. Also: the cross-site check the unsigned webhooks use.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { readJournal } from '../../../src/call/call-journal.ts';
import { CallJournals } from '../../../src/call/journals.ts';
import { MemoryStore } from '../../../src/journal/memory.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { isCrossSiteBrowserRequest } from '../../../src/server/cross-site.ts';
import { sendError } from '../../../src/server/http.ts';
import { MAX_UNSTARTED, Softphone } from '../../../src/server/softphone.ts';
import { PageTokens } from '../../../src/server/softphone-token.ts';

const store = new MemoryStore();
const journals = new CallJournals(store, 'test');
const tokens = new PageTokens();
const { logger, records } = memoryLogger();
const softphone = new Softphone({
  flows: new Map([['demo', {}]]),
  defaultFlow: 'demo',
  journals,
  logger,
  draining: () => false,
  tokens,
  unstartedMs: 300,
});
let server: Server;
let url: string;

before(async () => {
  await journals.init();
  server = createServer((req, res) => {
    softphone.handle(req, res, `${req.method} ${req.url}`).catch((err: unknown) => sendError(res, err));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  softphone.close();
  await new Promise((resolve) => server.close(resolve));
});

const place = () =>
  fetch(`${url}/softphone/calls`, {
    method: 'POST',
    headers: { 'x-softphone-token': tokens.mint(), 'content-type': 'application/json' },
    body: '{}',
  });

test('calls placed faster than their streams start are refused past the limit, with 429 and a log line', async () => {
  const placed: string[] = [];
  for (let i = 0; i < MAX_UNSTARTED; i++) {
    const res = await place();
    assert.equal(res.status, 200);
    placed.push(((await res.json()) as { callSid: string }).callSid);
  }
  const refused = await place();
  assert.equal(refused.status, 429);
  assert.deepEqual(await refused.json(), {
    error: 'HTTP_CALLS_TOO_FAST',
    message: 'Calls are being placed faster than their audio streams start; wait and try again',
    retryable: true,
  });
  assert.ok(records.some((r) => r.code === 'HTTP_CALLS_TOO_FAST'));

  // A stream taking one call up frees its place at once.
  const lease = await store.acquire(placed[0]!, 'stream');
  assert.equal((await place()).status, 200);
  await store.release(lease);

  // The rest never start: each is closed in its journal, and calls can be placed again.
  await new Promise((resolve) => setTimeout(resolve, 600));
  for (const callSid of placed.slice(1)) {
    const journal = await readJournal(store, callSid);
    assert.deepEqual(
      journal.map((r) => (r.kind === 'end' ? r.reason : r.kind)),
      ['stream never started'],
    );
  }
  assert.equal((await place()).status, 200);
});

test('a browser request from another site is told apart from Twilio and from this server own pages', () => {
  const req = (headers: Record<string, string>) =>
    ({ headers: { host: 'localhost:8080', ...headers } }) as IncomingMessage;
  assert.equal(isCrossSiteBrowserRequest(req({})), false, 'Twilio sends neither header');
  assert.equal(isCrossSiteBrowserRequest(req({ 'sec-fetch-site': 'cross-site' })), true);
  assert.equal(isCrossSiteBrowserRequest(req({ 'sec-fetch-site': 'same-site' })), true);
  assert.equal(isCrossSiteBrowserRequest(req({ 'sec-fetch-site': 'same-origin' })), false);
  assert.equal(isCrossSiteBrowserRequest(req({ origin: 'https://evil.example' })), true);
  assert.equal(isCrossSiteBrowserRequest(req({ origin: 'null' })), true);
  assert.equal(isCrossSiteBrowserRequest(req({ origin: 'http://localhost:8080' })), false);
});
