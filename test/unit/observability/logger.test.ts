import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_FIELD_CHARS, memoryLogger } from '../../../src/observability/logger.ts';
import { SwitchboardError } from '../../../src/errors.ts';

test('a long value from the network is cut in fields, bindings and error messages; the line stays small', () => {
  const { logger, records } = memoryLogger('debug');
  const huge = 'x'.repeat(60_000);
  logger.child({ callId: huge }).error('incoming call for an unknown flow', {
    flow: huge,
    count: 3,
    err: new SwitchboardError('FLOW_NOT_FOUND', `"${huge}"`),
  });
  const record = records[0]!;
  assert.ok(JSON.stringify(record).length < 8_000, `${JSON.stringify(record).length} characters`);
  assert.equal(record.flow, `${'x'.repeat(MAX_FIELD_CHARS)}…(+${60_000 - MAX_FIELD_CHARS} chars)`);
  assert.match(String(record.callId), /…\(\+59488 chars\)$/);
  assert.match(String((record.err as { message: string }).message), /chars\)$/);
  assert.equal(record.count, 3, 'other values are kept as they are');
  logger.info('short', { flow: 'pizza' });
  assert.equal(records[1]!.flow, 'pizza');
});
