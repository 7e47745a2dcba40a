/**
 * `switchboard validate FLOW...`: the checks the server runs before it loads a flow, run on files before they
 * are deployed. Exit 1 when any file has an error, so it can gate CI.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { isFlowFileName } from '../config/flows.ts';
import {
  MAX_FLOW_BYTES,
  checkFlowText,
  finding,
  formatFinding,
  formatFindings,
  type Finding,
} from '../flow/index.ts';

const HELP = `usage: switchboard validate [--json] FLOW...

Checks each flow file: JSON syntax and duplicate keys, the schema, unknown targets, dead ends, unreachable
states, slots spoken before they are collected, and loops that talk without waiting for input.

  --json       print [{ file, ok, findings }] as JSON instead of the report
  -h, --help   show this help

Exit status: 0 when no file has an error (warnings allowed), 1 otherwise, 2 for a usage error.`;

export interface FileResult {
  file: string;
  ok: boolean;
  findings: Finding[];
  /** States in the flow, when it is valid. */
  states?: number;
}

export async function main(args: string[]): Promise<number> {
  let values: { json?: boolean; help?: boolean };
  let files: string[];
  try {
    ({ values, positionals: files } = parseArgs({
      args,
      allowPositionals: true,
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    console.error(`switchboard validate: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (files.length === 0) {
    console.error(`switchboard validate: name at least one flow file\n\n${HELP}`);
    return 2;
  }

  // `flows/*.json` also matches the schema and package.json, which sit beside the flows but are not flows.
  const skipped = files.filter((file) => !isFlowFileName(basename(file)));
  const results: FileResult[] = [];
  for (const file of files) if (!skipped.includes(file)) results.push(await validateFile(file));
  if (!values.json) for (const file of skipped) console.log(`${file}: skipped (not a flow file)`);

  if (values.json) {
    console.log(JSON.stringify(results.map(({ file, ok, findings }) => ({ file, ok, findings }))));
  } else {
    for (const r of results) console.log(report(r));
    if (results.length > 1) {
      const bad = results.filter((r) => !r.ok).length;
      console.log(`${results.length} files: ${bad === 0 ? 'all valid' : `${bad} with errors`}`);
    }
  }
  return results.every((r) => r.ok) ? 0 : 1;
}

/** Read and check one file; a file that cannot be read is an error finding, not an exception. */
export async function validateFile(file: string): Promise<FileResult> {
  let text: string;
  try {
    // Checked before reading, so a stray multi-gigabyte file is not loaded into memory.
    const info = await stat(file);
    if (info.isFile() && info.size > MAX_FLOW_BYTES) {
      const size = (info.size / (1024 * 1024)).toFixed(1);
      const message = `the file is too large to be a flow: ${size} MiB, the limit is ${MAX_FLOW_BYTES / (1024 * 1024)} MiB`;
      return { file, ok: false, findings: [finding('error', '', message)] };
    }
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (err as Error).message;
    return { file, ok: false, findings: [finding('error', '', `cannot read the file: ${why}`)] };
  }
  const result = checkFlowText(text);
  return result.ok
    ? { file, ok: true, findings: result.findings, states: Object.keys(result.flow.states).length }
    : { file, ok: false, findings: result.findings };
}

function report(r: FileResult): string {
  if (!r.ok) return formatFindings(r.file, r.findings);
  const warnings = r.findings.length;
  const lines = r.findings.map((f) => formatFinding(r.file, f));
  const counted = warnings === 0 ? '' : `, ${warnings} warning${warnings === 1 ? '' : 's'}`;
  lines.push(`${r.file}: ok (${r.states ?? 0} states${counted})`);
  return lines.join('\n');
}
