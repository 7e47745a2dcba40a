import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  END_REASONS,
  isEndReason,
  isResumable,
  outcomeLabel,
  type EndReason,
} from '../../../src/call/end-reasons.ts';

test('the ways a stream ends that leave the call open to be resumed', () => {
  const resumable = (Object.keys(END_REASONS) as EndReason[]).filter(isResumable).sort();
  assert.deepEqual(resumable, [
    'handed back',
    'journal failed',
    'on hold',
    'stream closed',
    'stream dropped',
  ]);
  assert.equal(isResumable('caller hung up'), false);
  assert.equal(isResumable('transferred'), false);
});

test('end reasons are the exact words journaled and logged; the metric label has no spaces', () => {
  assert.equal(isEndReason('caller hung up'), true);
  assert.equal(isEndReason('flow ended the call'), true);
  assert.equal(isEndReason('the caller hung up'), false, "a text chat's words, not a media stream's");
  assert.equal(isEndReason('toString'), false);
  assert.equal(outcomeLabel('peer is not reading'), 'peer_is_not_reading');
});
