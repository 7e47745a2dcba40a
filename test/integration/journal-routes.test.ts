/**
 * What Twilio's `<Connect action>` gets for each kind of call (over, open, unknown, on a flow version no longer
 * loaded), the status callback closing a call left open, and the `replay` and `calls` commands on a real store.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CallJournal, readJournal } from '../../src/call/call-journal.ts';
import { openStore } from '../../src/journal/open-store.ts';
import type { JournalStore } from '../../src/journal/store.ts';
import { encodeRecord } from '../../src/journal/records.ts';
import { memoryLogger } from '../../src/observability/logger.ts';
import { placeCall } from '../../src/simulator/caller.ts';
import { readTwiml } from '../../src/simulator/twiml-reader.ts';
import { ToneTts } from '../fakes/tone-tts.ts';
import { testJournals } from '../fixtures/journals.ts';
import { RawStream, startServer, waitForLog, type TestServer } from '../support/harness.ts';

const BIN = new URL('../../bin/switchboard.js', import.meta.url).pathname;
const REPLAY_DIR = new URL('../replay/', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sb-journal-routes-'));
const storeUrl = `sqlite:${join(tmp, 'calls.db')}`;

describe('journal routes and commands', () => {
  let server: TestServer;
  let store: JournalStore;
  before(async () => {
    store = await openStore(storeUrl, { logger: memoryLogger().logger });
    server = await startServer({ tts: new ToneTts({ msPerChar: 4 }), journals: await testJournals(store) });
  });
  after(async () => {
    await server.close();
    await store.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const post = async (path: string, params: Record<string, string>) => {
    const res = await fetch(server.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
    return { status: res.status, text: await res.text() };
  };

  /** A journal written by hand, as an instance that then died would have left it. */
  async function leftOpen(callId: string, flow: string, flowVersion: number): Promise<void> {
    const lease = await store.acquire(callId, 'dead-instance');
    const journal = new CallJournal(store, lease, 0);
    await journal.append([{ kind: 'start', flow, flowVersion, modelVersion: null, params: {} }], 1000, flow);
    await journal.append([{ kind: 'in', event: { type: 'call.start', at: 1000, callId, env: {} } }], 1000);
  }

  test('a call that ended gets <Hangup/>; an unknown call too, with a log line and no crash', async () => {
    const result = await placeCall({ url: server.url, flow: 'demo', inputs: [{ kind: 'dtmf', keys: '1' }] });
    assert.equal(result.endedBy, 'agent');
    assert.equal(result.actionTwiml?.hangup, true, 'the action URL answered <Hangup/> for the ended call');
    const unknown = await post('/twilio/connect-ended', { CallSid: 'CA' + 'f'.repeat(32) });
    assert.equal(unknown.status, 200);
    assert.equal(readTwiml(unknown.text).hangup, true);
    await waitForLog(server.records, (r) => r.msg.startsWith('stream ended for a call with no journal'));
    const missing = await post('/twilio/connect-ended', {});
    assert.equal(readTwiml(missing.text).hangup, true);
  });

  test('an open call gets a new stream with a fresh ticket, and the call resumes on it', async () => {
    const callId = 'CA' + '1'.repeat(32);
    await leftOpen(callId, 'demo', 1);
    const answer = await post('/twilio/connect-ended', { CallSid: callId });
    const twiml = readTwiml(answer.text);
    assert.ok(twiml.connect, answer.text);
    assert.equal(twiml.connect.parameters.callId, callId);
    assert.equal(twiml.connect.parameters.flow, 'demo');
    const summary = await store.summary(callId);
    assert.equal(twiml.connect.parameters.lease, String(summary?.token));
    // The stream the TwiML points at takes the call up: the demo's menu is said again.
    const stream = new RawStream(twiml.connect.streamUrl, callId);
    await stream.opened;
    stream.send(stream.enc.connected());
    stream.send(stream.enc.start(twiml.connect.parameters));
    await stream.waitFor((m) => m.includes('"event":"mark"'));
    const resumed = await waitForLog(server.records, (r) => r.msg === 'call resumed from its journal');
    assert.equal(resumed.callId, callId);
    assert.equal(resumed.state, 'menu');
    const records = await readJournal(store, callId);
    assert.ok(records.some((r) => r.kind === 'in' && r.event.type === 'resume'));
    // The same ticket cannot attach a second stream: the lease moved on when the first attached.
    const again = new RawStream(twiml.connect.streamUrl, callId);
    await again.opened;
    again.send(again.enc.connected());
    again.send(again.enc.start(twiml.connect.parameters));
    assert.equal((await again.closed).code, 1008);
    stream.send(stream.enc.stop());
    await stream.closed;
  });

  test("a call whose first stream never started starts on the next one with the caller's numbers", async () => {
    const callId = 'CA' + 'a'.repeat(32);
    const numbers = { From: '+15550001111', To: '+15550002222' };
    const first = readTwiml((await post('/twilio/voice', { CallSid: callId, ...numbers })).text);
    assert.equal(first.connect?.parameters.from, numbers.From);
    // The first stream never started; Twilio asks the action URL it was given, with the call's numbers.
    const answer = await post(`/twilio/connect-ended?flow=demo`, { CallSid: callId, ...numbers });
    const twiml = readTwiml(answer.text);
    assert.ok(twiml.connect, answer.text);
    assert.equal(twiml.connect.parameters.from, numbers.From);
    assert.equal(twiml.connect.parameters.to, numbers.To);
    const stream = new RawStream(twiml.connect.streamUrl, callId);
    await stream.opened;
    stream.send(stream.enc.connected());
    stream.send(stream.enc.start(twiml.connect.parameters));
    await stream.waitFor((m) => m.includes('"event":"mark"'));
    const start = (await readJournal(store, callId))[0];
    assert.equal(start?.kind, 'start');
    assert.deepEqual(start.kind === 'start' && start.params, {
      flow: 'demo',
      from: numbers.From,
      to: numbers.To,
    });
    // Once begun, a later stream resumes from the journal: the numbers are not handed out again.
    stream.send(stream.enc.stop());
    await stream.closed;
    const leftOpenId = 'CA' + 'b'.repeat(32);
    await leftOpen(leftOpenId, 'demo', 1);
    const resumed = readTwiml(
      (await post('/twilio/connect-ended', { CallSid: leftOpenId, ...numbers })).text,
    );
    assert.ok(resumed.connect);
    assert.equal(resumed.connect.parameters.from, undefined);
  });

  test('a call placed through the REST API reaches its flow as outbound; any other as inbound', async () => {
    for (const [digit, direction, expected] of [
      ['c', 'outbound-api', 'outbound'],
      ['d', 'inbound', 'inbound'],
    ] as const) {
      const callId = 'CA' + digit.repeat(32);
      const form = { CallSid: callId, From: '+15550003333', To: '+15550004444', Direction: direction };
      const twiml = readTwiml((await post('/twilio/voice', form)).text);
      assert.equal(twiml.connect?.parameters.direction, expected);
      const stream = new RawStream(twiml.connect.streamUrl, callId);
      await stream.opened;
      stream.send(stream.enc.connected());
      stream.send(stream.enc.start(twiml.connect.parameters));
      await stream.waitFor((m) => m.includes('"event":"mark"'));
      const started = (await readJournal(store, callId)).find(
        (r) => r.kind === 'in' && r.event.type === 'call.start',
      );
      assert.deepEqual(started?.kind === 'in' && started.event.call, {
        direction: expected,
        from: form.From,
        to: form.To,
      });
      stream.send(stream.enc.stop());
      await stream.closed;
    }
  });

  test('an open call whose flow version is no longer loaded is told so and its journal closed', async () => {
    const callId = 'CA' + '2'.repeat(32);
    await leftOpen(callId, 'demo', 99);
    const answer = await post('/twilio/connect-ended', { CallSid: callId });
    const twiml = readTwiml(answer.text);
    assert.equal(twiml.connect, null);
    assert.equal(twiml.hangup, true);
    assert.match(twiml.say.join(' '), /could not continue/);
    const log = await waitForLog(server.records, (r) => r.code === 'RESUME_REFUSED' && r.callId === callId);
    assert.equal(log.flowVersion, 99);
    assert.equal((await store.summary(callId))?.ended, true);
  });

  test('an open call whose journal holds a record from a newer version is told so, not crashed on', async () => {
    const callId = 'CA' + '5'.repeat(32);
    await leftOpen(callId, 'demo', 1);
    const lease = await store.acquire(callId, 'newer-instance');
    const event = { type: 'dtmf', at: 2000, digit: '1' };
    const line = encodeRecord({ kind: 'in', event, v: 3, callId, seq: 3, at: 2000 });
    await store.append(lease, [{ seq: 3, kind: 'in', at: 2000, line }]);
    const answer = await post('/twilio/connect-ended', { CallSid: callId });
    const twiml = readTwiml(answer.text);
    assert.equal(twiml.hangup, true);
    assert.match(twiml.say.join(' '), /could not continue/);
    await waitForLog(server.records, (r) => r.code === 'JOURNAL_VERSION_UNSUPPORTED' && r.callId === callId);
    const health = await fetch(server.url + '/healthz');
    assert.equal(health.status, 200, 'the server is still up');
  });

  test("a completed status closes a journal left open; a live call's is left alone", async () => {
    const callId = 'CA' + '3'.repeat(32);
    await leftOpen(callId, 'demo', 1);
    await store.release({ callId, owner: 'dead-instance', token: 1 });
    const res = await post('/twilio/status', {
      CallSid: callId,
      CallStatus: 'completed',
      SequenceNumber: '3',
    });
    assert.equal(res.status, 204);
    assert.equal((await store.summary(callId))?.ended, true);
    const live = 'CA' + '4'.repeat(32);
    await leftOpen(live, 'demo', 1);
    await post('/twilio/status', { CallSid: live, CallStatus: 'completed', SequenceNumber: '3' });
    assert.equal((await store.summary(live))?.ended, false, 'an instance holds it: its own stream ends it');
  });

  test('calls list and export read the store; an exported call replays identically', async () => {
    const result = await placeCall({
      url: server.url,
      flow: 'demo',
      inputs: [
        { kind: 'dtmf', keys: '2' },
        { kind: 'dtmf', keys: '5551234#' },
        { kind: 'dtmf', keys: '1' },
      ],
      thinkMs: 100,
    });
    const env = { ...process.env, STORE_URL: storeUrl };
    const list = spawnSync(process.execPath, [BIN, 'calls', 'list'], { env, encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`${result.callSid}\\s+demo\\s+\\d+ records .* ended`));
    const exported = spawnSync(process.execPath, [BIN, 'calls', 'export', result.callSid], {
      env,
      encoding: 'utf8',
    });
    assert.equal(exported.status, 0, exported.stderr);
    const file = join(tmp, 'call.jsonl');
    writeFileSync(file, exported.stdout);
    const replay = spawnSync(process.execPath, [BIN, 'replay', file], { env, encoding: 'utf8' });
    assert.equal(replay.status, 0, replay.stdout + replay.stderr);
    assert.match(replay.stdout, /identical \(demo v1, \d+ events\)/);
    const none = spawnSync(process.execPath, [BIN, 'calls', 'export', 'CA-nope'], { env, encoding: 'utf8' });
    assert.equal(none.status, 1);
    assert.match(none.stderr, /no journal for call CA-nope/);
  });

  test('replay exits 1 at a difference and names the record; 2 on usage errors', () => {
    const text = readFileSync(join(REPLAY_DIR, 'pizza-keypad.jsonl'), 'utf8');
    const file = join(tmp, 'damaged.jsonl');
    writeFileSync(file, text.replace('"digit":"3"', '"digit":"2"'));
    const damaged = spawnSync(process.execPath, [BIN, 'replay', file], { encoding: 'utf8' });
    assert.equal(damaged.status, 1);
    assert.match(damaged.stdout, /JOURNAL_CORRUPT: .*record \d+: the checksum does not match/);
    const usage = spawnSync(process.execPath, [BIN, 'replay'], { encoding: 'utf8' });
    assert.equal(usage.status, 2);
  });
});
