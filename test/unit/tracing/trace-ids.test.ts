import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { CallTraceIds, callTraceId } from '../../../src/tracing/trace-ids.ts';

test("a call's trace id is the first 16 bytes of SHA-256 of its call id, the same in every process", () => {
  const sid = 'CA0123456789abcdef0123456789abcdef';
  const expected = createHash('sha256').update(sid).digest().subarray(0, 16).toString('hex');
  assert.equal(callTraceId(sid), expected);
  assert.match(callTraceId(sid), /^[0-9a-f]{32}$/);
  assert.equal(callTraceId(sid), callTraceId(`${sid}`));
  assert.notEqual(callTraceId(sid), callTraceId('CA0123456789abcdef0123456789abcdee'));
});

test('the id generator gives the chosen trace id to the next root span only, and random ids otherwise', () => {
  const ids = new CallTraceIds();
  const chosen = callTraceId('CA1');
  ids.chooseNext(chosen);
  assert.equal(ids.generateTraceId(), chosen);
  const next = ids.generateTraceId();
  assert.notEqual(next, chosen);
  assert.match(next, /^[0-9a-f]{32}$/);
  assert.notEqual(ids.generateTraceId(), next);
  ids.chooseNext(chosen);
  ids.clear();
  assert.notEqual(ids.generateTraceId(), chosen, 'a cleared choice is not used');
  const span = ids.generateSpanId();
  assert.match(span, /^[0-9a-f]{16}$/);
  assert.notEqual(span, '0000000000000000');
});
