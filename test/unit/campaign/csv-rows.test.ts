import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { campaignRowsHash, readCsvRows, type CsvRow } from '../../../src/campaign/csv-rows.ts';
import { isSwitchboardError } from '../../../src/errors.ts';
import { csvFile, rowsOf, tempPath } from './csv-files.ts';

/** Rows as `line: field|field` or `line! error`, to compare whole files at a glance. */
function brief(rows: CsvRow[]): string[] {
  return rows.map((r) =>
    'error' in r ? `${r.line}! ${r.error}` : `${r.line}: ${Object.values(r.fields).join('|')}`,
  );
}

async function rejectsInvalid(content: string, pattern: RegExp): Promise<void> {
  await assert.rejects(rowsOf(content), (err) => {
    assert.ok(isSwitchboardError(err, 'CAMPAIGN_INVALID'), String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

test('the header names the fields of each row', async () => {
  const rows = await rowsOf('number,first name\n+15551234567,Ada\n+15557654321,Grace\n');
  assert.deepEqual(rows, [
    { line: 2, fields: { number: '+15551234567', 'first name': 'Ada' } },
    { line: 3, fields: { number: '+15557654321', 'first name': 'Grace' } },
  ]);
});

test('quoted fields hold commas and doubled quotes; empty fields stay empty', async () => {
  const rows = await rowsOf('a,b,c\n"Smith, J","say ""hi""",\n"",x,""""\n');
  assert.deepEqual(
    rows.map((r) => ('fields' in r ? r.fields : r)),
    [
      { a: 'Smith, J', b: 'say "hi"', c: '' },
      { a: '', b: 'x', c: '"' },
    ],
  );
});

test('newlines inside quotes stay in the field, and line numbers count the physical lines', async () => {
  const rows = await rowsOf('n,note\n1,"two\nlines"\n2,"three\n\nlines"\n3,plain\n');
  assert.deepEqual(brief(rows), ['2: 1|two\nlines', '4: 2|three\n\nlines', '7: 3|plain']);
});

test('CRLF line ends read like LF, a CRLF inside quotes is kept, and a lone CR ends a line too', async () => {
  const crlf = await rowsOf('n,note\r\n1,"a\r\nb"\r\n2,c\r\n');
  assert.deepEqual(brief(crlf), ['2: 1|a\r\nb', '4: 2|c']);
  const cr = await rowsOf('n,note\r1,a\r\r2,b');
  assert.deepEqual(brief(cr), ['2: 1|a', '4: 2|b']);
});

test('a UTF-8 BOM is skipped, so the first column keeps its name', async () => {
  const rows = await rowsOf(
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('number,x\n+1555,é\n')]),
  );
  assert.deepEqual(rows, [{ line: 2, fields: { number: '+1555', x: 'é' } }]);
});

test('blank lines and rows of empty fields are skipped, and still counted as lines', async () => {
  const rows = await rowsOf('\n\nn,x\n\n1,a\n , \n,\r\n2,b\n\n');
  assert.deepEqual(brief(rows), ['5: 1|a', '8: 2|b']);
});

test('the last row needs no line end, and a trailing comma is an empty last field', async () => {
  assert.deepEqual(brief(await rowsOf('a,b\n1,')), ['2: 1|']);
  assert.deepEqual(brief(await rowsOf('a,b\n1,"x"')), ['2: 1|x']);
});

test('a row with the wrong number of fields is an error row that names the counts, not the values', async () => {
  const rows = await rowsOf('a,b,c,d\n+15551234567,Ada,x\nsecret\n1,2,3,4,5\n1,2,3,4\n');
  assert.deepEqual(brief(rows), [
    '2! 3 fields, the header has 4',
    '3! 1 field, the header has 4',
    '4! 5 fields, the header has 4',
    '5: 1|2|3|4',
  ]);
  assert.ok(!brief(rows).some((r) => /5551234567|Ada|secret/.test(r)));
});

test('text after a closing quote is an error row; the next row is read as usual', async () => {
  const rows = await rowsOf('a,b\n"Ada" Lovelace,1\n2,"x"y\n3,ok\n');
  assert.deepEqual(brief(rows), [
    '2! field 1 has text after its closing quote',
    '3! field 2 has text after its closing quote',
    '4: 3|ok',
  ]);
});

test('a quote never closed is an error row at the line where it opened', async () => {
  const rows = await rowsOf('a,b\n1,ok\n2,"never closed\n3,x\n4,y\n');
  assert.deepEqual(brief(rows), [
    '2: 1|ok',
    '3! a quoted field starting here is never closed: the file ends inside it',
  ]);
});

test('a record over maxLineChars is an error row, skipped up to its real end, and the next row is read', async () => {
  const long = 'x'.repeat(60);
  const rows = await rowsOf(`a,b\n1,${long}\n2,ok\n3,"${long}\n${long}"\n4,ok\n5,"${'y'.repeat(30)}"\n`, {
    maxLineChars: 40,
  });
  assert.deepEqual(brief(rows), [
    '2! the record is over 40 characters long',
    '3: 2|ok',
    '4! the record is over 40 characters long',
    '6: 4|ok',
    `7: 5|${'y'.repeat(30)}`,
  ]);
});

test('a record of exactly maxLineChars characters is read', async () => {
  const rows = await rowsOf('a,b\n12345,"xy"\n', { maxLineChars: 10 });
  assert.deepEqual(brief(rows), ['2: 12345|xy']);
});

test('what straddles the 64 KiB read chunks reads as if it did not', async () => {
  const CHUNK = 64 * 1024;
  const head = 'a,b\n1,';
  // Each case puts `split` so that its first character is the last of the first chunk.
  const cases = [
    { open: '', split: '\r\n2,b\r\n', b: '', next: 3 },
    { open: '"', split: '""x"\n2,b\n', b: '"x', next: 3 },
    { open: '"', split: '\r\nx"\n2,b\n', b: '\r\nx', next: 4 },
  ];
  for (const { open, split, b, next } of cases) {
    const pad = 'p'.repeat(CHUNK - 1 - head.length - open.length);
    const rows = await rowsOf(`${head}${open}${pad}${split}`, { maxLineChars: CHUNK * 2 });
    assert.deepEqual(
      rows,
      [
        { line: 2, fields: { a: '1', b: pad + b } },
        { line: next, fields: { a: '2', b: 'b' } },
      ],
      JSON.stringify(split),
    );
  }
  // A two-byte character split between chunks is decoded whole.
  const pad = 'p'.repeat(CHUNK - 1 - head.length);
  assert.deepEqual(await rowsOf(`${head}${pad}é\n`, { maxLineChars: CHUNK * 2 }), [
    { line: 2, fields: { a: '1', b: `${pad}é` } },
  ]);
});

test('a header that cannot name the columns is CAMPAIGN_INVALID, saying what is wrong', async () => {
  await rejectsInvalid('', /the file is empty/);
  await rejectsInvalid('\n\r\n,,\n', /the file is empty/);
  await rejectsInvalid('number,name,number\n1,2,3\n', /names the column "number" twice/);
  await rejectsInvalid('number,,name\n1,2,3\n', /column 2 of the header has no name/);
  await rejectsInvalid('number,"name\n', /the header \(line 1\): a quoted field .* never closed/);
  await assert.rejects(
    rowsOf(`${'x'.repeat(50)}\n1\n`, { maxLineChars: 20 }),
    /the header \(line 1\): the record is over 20 characters/,
  );
});

test('header names are trimmed, and a column named __proto__ is a field like any other', async () => {
  const rows = await rowsOf(' number , __proto__\n1,2\n');
  const row = rows[0]!;
  assert.ok('fields' in row);
  assert.deepEqual(Object.keys(row.fields), ['number', '__proto__']);
  assert.equal(row.fields['__proto__'], '2');
  assert.equal(Object.getPrototypeOf(row.fields), Object.prototype);
});

test('a file that cannot be read is CAMPAIGN_INVALID naming the path', async () => {
  const missing = tempPath();
  const read = async () => {
    for await (const _ of readCsvRows(missing));
  };
  await assert.rejects(read(), (err) => {
    assert.ok(isSwitchboardError(err, 'CAMPAIGN_INVALID'));
    assert.match(err.message, /cannot read .*\(ENOENT\)/);
    return true;
  });
  await assert.rejects(campaignRowsHash(missing), /ENOENT/);
});

test('an aborted read stops with the abort, not a campaign error', async () => {
  const controller = new AbortController();
  const path = csvFile('a\n1\n2\n');
  controller.abort();
  const read = async () => {
    for await (const _ of readCsvRows(path, { signal: controller.signal }));
  };
  await assert.rejects(read(), { name: 'AbortError' });
});

test('campaignRowsHash is the sha256 of the bytes, streamed', async () => {
  const content = `number\n${'+15551234567\n'.repeat(20_000)}`;
  const path = csvFile(content);
  assert.equal(await campaignRowsHash(path), createHash('sha256').update(readFileSync(path)).digest('hex'));
  assert.notEqual(await campaignRowsHash(csvFile(`${content}+15551234568\n`)), await campaignRowsHash(path));
});
