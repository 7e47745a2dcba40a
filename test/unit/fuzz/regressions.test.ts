/**
 * What the fuzz targets (test/fuzz/) found, one test each, named for the failure. The failing inputs are also
 * kept as test/fuzz/corpus/<target>/crash-*, which every fuzz run, the short one of `npm test` included,
 * replays first.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { replayCall } from '../../../src/call/replay.ts';
import { Understanding } from '../../../src/call/understanding.ts';
import { main as replayCommand } from '../../../src/cli/replay.ts';
import { unescapeXml } from '../../../src/common/xml.ts';
import { isSwitchboardError } from '../../../src/errors.ts';
import { describeEffect, describeEvent } from '../../../src/flow/describe.ts';
import { checkFlowText, compileFlow } from '../../../src/flow/index.ts';
import {
  decodeRecord,
  encodeRecord,
  parseJsonLines,
  type JournalRecord,
} from '../../../src/journal/records.ts';
import { Logger } from '../../../src/observability/logger.ts';
import { SwitchboardApp } from '../../../src/server/app.ts';
import { readTwiml } from '../../../src/simulator/twiml-reader.ts';
import { PromptCache } from '../../../src/speech/tts/prompt-cache.ts';
import { ToneTts } from '../../fakes/tone-tts.ts';
import { exampleFlowFile } from '../../fixtures/example-flows.ts';
import { testJournals } from '../../fixtures/journals.ts';
import { CORPUS_DIR } from '../../fuzz/corpus.ts';
import { resign } from '../../fuzz/targets/journal-lines.ts';

const code = (expected: string) => (err: unknown) => isSwitchboardError(err) && err.code === expected;

/** The status line a server on `port` answers to `request` (raw bytes, so any request target goes). */
function statusLine(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer.split('\r\n', 1)[0] ?? ''));
  });
}

test('http-requests: a target no URL can be made of (GET //) is a 404, on a request or an upgrade, and the server lives on', async () => {
  const rejections: unknown[] = [];
  const onRejection = (err: unknown): number => rejections.push(err);
  process.on('unhandledRejection', onRejection);
  const app = new SwitchboardApp({
    flows: new Map(),
    journals: await testJournals(),
    defaultFlow: 'demo',
    prompts: new PromptCache(new ToneTts()),
    logger: new Logger({ level: 'error', sink: () => {} }),
    twilioAuthToken: 'token',
    publicUrl: null,
    softphone: true,
  });
  try {
    const { port } = await app.listen(0, '127.0.0.1');
    const ask = (line: string, extra = ''): Promise<string> =>
      statusLine(port, `${line} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}Connection: close\r\n\r\n`);
    assert.equal(await ask('GET //'), 'HTTP/1.1 404 Not Found');
    assert.equal(await ask('POST //..%00'), 'HTTP/1.1 404 Not Found');
    const upgrade =
      'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    assert.equal(await ask('GET //[', upgrade), 'HTTP/1.1 404 Not Found');
    assert.equal(await ask('GET /healthz'), 'HTTP/1.1 200 OK');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(rejections, []);
  } finally {
    process.off('unhandledRejection', onRejection);
    await app.close();
  }
});

test('twiml: a character reference past U+10FFFF is left as written, not a RangeError', () => {
  assert.equal(unescapeXml('&#99999999;&#x110000;&#65;&#x10FFFF;'), '&#99999999;&#x110000;A\u{10ffff}');
  const xml = readFileSync(join(CORPUS_DIR, 'twiml', 'crash-code-point-past-unicode'), 'utf8');
  const read = readTwiml(xml);
  assert.deepEqual(read.say, ['&#99999999;']);
  assert.deepEqual(read.connect, {
    action: '&#x110000;',
    streamUrl: 'wss://x/y',
    parameters: { n: '&#1114112;' },
  });
});

test('twiml: an answer that is not TwiML, or a stream without a URL, is TWIML_INVALID', () => {
  assert.throws(() => readTwiml('<html><body>Bad gateway</body></html>'), code('TWIML_INVALID'));
  assert.throws(() => readTwiml('<Response><Connect><Stream/></Connect></Response>'), code('TWIML_INVALID'));
});

const AT = 1_700_000_000_000;

/** A record line with a good checksum over whatever fields it is given. */
function signed(fields: Record<string, unknown>): string {
  return resign(Buffer.from(JSON.stringify({ v: 1, callId: 'CA1', seq: 1, at: AT, ...fields }))).toString();
}

test('journal: a record whose fields do not fit its kind is JOURNAL_CORRUPT, though its checksum holds', () => {
  const malformed = [
    { kind: 'in' },
    { kind: 'in', event: { digit: '1' } },
    { kind: 'eff', key: 'k' },
    { kind: 'start', flow: { id: 'pizza' }, flowVersion: 1, modelVersion: null, params: {} },
    { kind: 'start', flow: 'pizza', flowVersion: 1, modelVersion: null, params: { n: 1 } },
    { kind: 'state', in: '2', state: 'greet' },
    { kind: 'timer', id: 't1' },
    { kind: 'snap', upTo: 1 },
    { kind: 'crash', in: 2 },
    { kind: 'end' },
    { kind: '__proto__' },
  ];
  for (const fields of malformed) {
    assert.throws(() => decodeRecord(signed(fields)), code('JOURNAL_CORRUPT'), JSON.stringify(fields));
  }
  // A time past the doubles reads as Infinity, and would be written again as null.
  const past = signed({ kind: 'end', reason: 'x' }).replace(`"at":${AT}`, '"at":1e999');
  assert.throws(() => decodeRecord(resign(Buffer.from(past)).toString()), code('JOURNAL_CORRUPT'));
});

test('journal: records with their personal fields left out (sealed, or read without the key) still decode', () => {
  const stubs: JournalRecord[] = [
    {
      v: 2,
      callId: 'CA1',
      seq: 1,
      at: AT,
      kind: 'start',
      flow: 'pizza',
      flowVersion: 2,
      modelVersion: null,
      params: {},
    },
    { v: 2, callId: 'CA1', seq: 2, at: AT, kind: 'in', event: { type: 'dtmf' } },
    { v: 2, callId: 'CA1', seq: 3, at: AT, kind: 'eff', key: 'k', effect: { type: 'say' } },
    { v: 2, callId: 'CA1', seq: 4, at: AT, kind: 'snap', upTo: 2, snapshot: null },
  ];
  for (const record of stubs) assert.deepEqual(decodeRecord(encodeRecord(record)), record);
});

test('replay: `switchboard replay` of a journal with a malformed record reports it and exits 1', async () => {
  const previous = process.env.FLOWS_DIR;
  process.env.FLOWS_DIR = fileURLToPath(new URL('../../../flows/', import.meta.url));
  const printed: string[] = [];
  const { log, error } = console;
  const capture = (line: string): number => printed.push(line);
  Object.assign(console, { log: capture, error: capture });
  try {
    for (const name of [
      'crash-in-record-without-event',
      'crash-start-flow-not-a-string',
      'crash-eff-record-without-effect',
    ]) {
      printed.length = 0;
      assert.equal(await replayCommand([join(CORPUS_DIR, 'replay', name), '--recorded-intents']), 1, name);
      assert.match(printed.join('\n'), /JOURNAL_CORRUPT/, name);
    }
  } finally {
    Object.assign(console, { log, error });
    if (previous === undefined) delete process.env.FLOWS_DIR;
    else process.env.FLOWS_DIR = previous;
  }
});

test('describe: a journaled type named like an inherited property ("__proto__", "toString") is named as it is', () => {
  assert.deepEqual(describeEffect({ type: '__proto__' }), {
    kind: 'event',
    title: 'effect __proto__',
    detail: null,
  });
  assert.equal(describeEffect({ type: 'toString' }).title, 'effect toString');
  assert.equal(describeEvent({ type: 'constructor' }).title, 'event constructor');
  assert.equal(
    describeEffect({ type: 'say', text: 'Hi.', mark: 'm' }).kind === 'event',
    false,
    'known types keep their words',
  );
});

test('replay: words journaled without their transcript are taken as recorded when understood again', async () => {
  const result = checkFlowText(readFileSync(exampleFlowFile('pizza'), 'utf8'));
  assert.ok(result.ok);
  const compiled = compileFlow(result.flow);
  const logger = new Logger({ level: 'error', sink: () => {} });
  const understanding = new Understanding(compiled.flow, { model: null, logger });
  const text = readFileSync(join(CORPUS_DIR, 'replay', 'crash-utterance-without-text'), 'utf8');
  const report = await replayCall(compiled, parseJsonLines(text).records, { understanding });
  assert.equal(report.understood, 0);
  assert.equal(report.events, 2);
});
