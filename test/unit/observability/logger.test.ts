import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  loggerFromEnv,
  MAX_FIELD_CHARS,
  memoryLogger,
  type LogRecord,
} from '../../../src/observability/logger.ts';
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

test('LOG_PII drops personal data by default on a production server, redacts it elsewhere, shows it on request', () => {
  const lines = (env: NodeJS.ProcessEnv): LogRecord[] => {
    const out: LogRecord[] = [];
    loggerFromEnv(env, (r) => out.push(r)).info('dtmf received', { callId: 'CA1', pii: { digit: '7' } });
    return out;
  };
  const production = lines({ TWILIO_AUTH_TOKEN: 'token' })[0]!;
  assert.equal(production.pii, undefined, 'dropped');
  assert.equal(production.callId, 'CA1', 'the rest of the line stays');
  assert.deepEqual(lines({})[0]!.pii, { digit: '[redacted]' });
  assert.deepEqual(lines({ TWILIO_AUTH_TOKEN: 'token', LOG_PII: 'redact' })[0]!.pii, { digit: '[redacted]' });
  assert.deepEqual(lines({ TWILIO_AUTH_TOKEN: 'token', LOG_PII: 'show' })[0]!.pii, { digit: '7' });
  assert.equal(lines({ LOG_PII: 'drop' })[0]!.pii, undefined);
});
