/** Temporary CSV files for the campaign tests, removed when the process exits. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCsvRows, type CsvReadOptions, type CsvRow } from '../../../src/campaign/csv-rows.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchboard-campaign-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A new file in the temporary folder holding `content`; its path. */
export function csvFile(content: string | Buffer): string {
  const path = join(dir, `rows-${++n}.csv`);
  writeFileSync(path, content);
  return path;
}

/** A new, empty path in the temporary folder. */
export function tempPath(): string {
  return join(dir, `rows-${++n}.csv`);
}

/** Every row of a CSV text, read through a file. */
export async function rowsOf(content: string | Buffer, options?: CsvReadOptions): Promise<CsvRow[]> {
  const rows: CsvRow[] = [];
  for await (const row of readCsvRows(csvFile(content), options)) rows.push(row);
  return rows;
}
