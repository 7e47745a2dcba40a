/**
 * The CSV reader's memory stays bounded however large the file: measured as the growth of the live heap (after a
 * garbage collection) while a large file streams, against files larger than the bound, so that reading a whole
 * file, or keeping its rows, would fail the check.
 */
import assert from 'node:assert/strict';
import { appendFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readCsvRows } from '../../../src/campaign/csv-rows.ts';
import { csvFile, tempPath } from './csv-files.ts';

const MB = 1024 * 1024;

/** A full collection, with or without --expose-gc: the flag set at run time reaches a new context's global. */
const gc: () => void =
  (globalThis as { gc?: () => void }).gc ??
  (() => {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  })();

/** The most the live heap grew above where it started while `run` ran, sampled every 25 ms between reads. */
async function peakHeapGrowth(run: () => Promise<void>): Promise<number> {
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = 0;
  const sample = (): void => {
    gc();
    peak = Math.max(peak, process.memoryUsage().heapUsed - base);
  };
  const timer = setInterval(sample, 25);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  sample();
  return peak;
}

/** A file of `rows` rows of about 300 bytes, written in batches so the test itself never holds all of it. */
function bigFile(rows: number): string {
  const path = tempPath();
  appendFileSync(path, 'number,first name,notes\n');
  const notes = 'n'.repeat(270);
  for (let start = 0; start < rows; start += 10_000) {
    const batch: string[] = [];
    for (let i = start; i < Math.min(rows, start + 10_000); i++) {
      batch.push(`+1555${String(i).padStart(7, '0')},"Name ${i}, Jr.",${notes}\n`);
    }
    appendFileSync(path, batch.join(''));
  }
  return path;
}

test('100,000 rows stream through with the heap growing by less than 20 MB', async () => {
  const path = bigFile(100_000);
  const size = statSync(path).size;
  assert.ok(
    size > 28 * MB,
    `the file (${size} bytes) is larger than the bound, so reading it whole would show`,
  );
  let count = 0;
  let last = 0;
  const growth = await peakHeapGrowth(async () => {
    for await (const row of readCsvRows(path)) {
      assert.ok('fields' in row, `line ${row.line}: ${'error' in row ? row.error : ''}`);
      if (count === 41_234) {
        assert.deepEqual(row, {
          line: 41_236,
          fields: { number: '+15550041234', 'first name': 'Name 41234, Jr.', notes: 'n'.repeat(270) },
        });
      }
      count++;
      last = row.line;
      // Let the sampler run now and then: the reader alone would hand over a chunk's rows without yielding.
      if (count % 5000 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  });
  assert.equal(count, 100_000);
  assert.equal(last, 100_001);
  assert.ok(growth < 20 * MB, `the heap grew by ${(growth / MB).toFixed(1)} MB`);
});

test('a quote never closed, with megabytes after it, is one error row and is never buffered', async () => {
  const path = tempPath();
  appendFileSync(path, 'number,notes\n+15551234567,ok\n+15557654321,"never closed\n');
  const filler = `+15550000000,${'z'.repeat(200)}\n`.repeat(5000);
  for (let i = 0; i < 24; i++) appendFileSync(path, filler);
  assert.ok(statSync(path).size > 24 * MB);
  const rows: unknown[] = [];
  const growth = await peakHeapGrowth(async () => {
    for await (const row of readCsvRows(path)) rows.push(row);
  });
  assert.deepEqual(rows, [
    { line: 2, fields: { number: '+15551234567', notes: 'ok' } },
    { line: 3, error: 'a quoted field starting here is never closed: the file ends inside it' },
  ]);
  assert.ok(growth < 8 * MB, `the heap grew by ${(growth / MB).toFixed(1)} MB`);
});

test('a huge single line is skipped with bounded memory and the row after it is read', async () => {
  const path = csvFile('number,notes\n');
  appendFileSync(path, '+15551234567,');
  for (let i = 0; i < 20; i++) appendFileSync(path, 'x'.repeat(MB));
  appendFileSync(path, '\n+15557654321,after\n');
  const rows: unknown[] = [];
  const growth = await peakHeapGrowth(async () => {
    for await (const row of readCsvRows(path)) rows.push(row);
  });
  assert.deepEqual(rows, [
    { line: 2, error: 'the record is over 16384 characters long' },
    { line: 3, fields: { number: '+15557654321', notes: 'after' } },
  ]);
  assert.ok(growth < 8 * MB, `the heap grew by ${(growth / MB).toFixed(1)} MB`);
});
