/**
 * `switchboard validate FLOW...`: the checks the server runs before it loads a flow, run on files before they
 * are deployed. Exit 1 when any flow has an error, or when nothing was checked, so it can gate CI.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { duplicateFlowId, isFlowFileName } from '../config/flows.ts';
import {
  MAX_FLOW_BYTES,
  checkFlowText,
  finding,
  flowEnvNames,
  formatFinding,
  formatFindings,
  unsetEnvNames,
  type Finding,
} from '../flow/index.ts';
import { describeIoError, flowArgPath, flowNameHint } from './flow-arg.ts';

const HELP = `usage: switchboard validate [--json] FLOW...

Checks each flow: JSON syntax and duplicate keys, the schema, unknown targets, dead ends, unreachable states,
slots spoken before they are collected, loops that talk without waiting for input, and a flow id defined by
more than one of the files checked (the server refuses the second). Lists the environment variables each flow
reads ({{env.NAME}}), with a warning for each one not set here: only a warning, as the machine that runs the
server may set it.

  FLOW         a flow file (path to a .json file), a flow id read from $FLOWS_DIR/<id>.json (FLOWS_DIR
               defaults to ./flows), or a folder, whose flow files are all checked
  --json       print [{ file, ok, findings, env }] as JSON instead of the report
  -h, --help   show this help

Exit status: 0 when every flow checked is valid (warnings allowed); 1 when any has an error, or when no flow
was checked; 2 for a usage error.`;

const NAME = 'switchboard validate';

export interface FileResult {
  file: string;
  ok: boolean;
  findings: Finding[];
  /** States in the flow, when it is valid. */
  states?: number;
  /** The flow's id, when it is valid. */
  id?: string;
  /** Environment variables the flow reads, when it is valid. */
  env?: string[];
}

/** A file to check; `name` is the flow id it was named by, when it was named so. */
interface Target {
  file: string;
  name: string | null;
}

export async function main(args: string[]): Promise<number> {
  let values: { json?: boolean; help?: boolean };
  let flows: string[];
  try {
    ({ values, positionals: flows } = parseArgs({
      args,
      allowPositionals: true,
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    console.error(`${NAME}: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (flows.length === 0) {
    console.error(`${NAME}: name at least one flow file\n\n${HELP}`);
    return 2;
  }

  const { targets, notes } = await targetsOf(flows);
  const results: FileResult[] = [];
  for (const target of targets) results.push(await validateFile(target.file, target.name));
  refuseDuplicateIds(results);
  for (const r of results) if (r.env) r.findings.push(...unsetEnvWarnings(r.env));

  if (values.json) {
    console.log(
      JSON.stringify(
        results.map(({ file, ok, findings, env }) => ({ file, ok, findings, ...(env ? { env } : {}) })),
      ),
    );
  } else {
    for (const note of notes) console.log(note);
    for (const r of results) console.log(report(r));
    if (results.length > 1) {
      const bad = results.filter((r) => !r.ok).length;
      console.log(`${results.length} files: ${bad === 0 ? 'all valid' : `${bad} with errors`}`);
    }
  }
  if (results.length === 0) {
    console.error(`${NAME}: no flow was checked (name flow files, flow ids or a folder of flows)`);
    return 1;
  }
  return results.every((r) => r.ok) ? 0 : 1;
}

/**
 * The files the FLOW arguments name: a folder gives its flow files (as the server reads them), an id its file
 * in FLOWS_DIR. `notes` says which arguments gave nothing to check.
 */
async function targetsOf(args: string[]): Promise<{ targets: Target[]; notes: string[] }> {
  const targets: Target[] = [];
  const notes: string[] = [];
  const seen = new Set<string>();
  const add = (file: string, name: string | null): void => {
    // A file named twice (by its folder and by itself) is checked once, and is not its own duplicate.
    if (seen.has(resolve(file))) return;
    seen.add(resolve(file));
    targets.push({ file, name });
  };
  for (const arg of args) {
    const info = await stat(arg).catch(() => null);
    if (info?.isDirectory()) {
      let names: string[];
      try {
        names = (await readdir(arg)).filter(isFlowFileName).sort();
      } catch (err) {
        notes.push(`${arg}: cannot read the folder: ${describeIoError(err)}`);
        continue;
      }
      if (names.length === 0) notes.push(`${arg}: no flow files in this folder`);
      for (const name of names) add(join(arg, name), null);
      continue;
    }
    const { path, byName } = flowArgPath(arg);
    // `flows/*.json` also matches the schema and package.json, which sit beside the flows but are not flows.
    if (!byName && !isFlowFileName(basename(path))) notes.push(`${arg}: skipped (not a flow file)`);
    else add(path, byName ? arg : null);
  }
  return { targets, notes };
}

/** Read and check one file; a file that cannot be read is an error finding, not an exception. */
export async function validateFile(file: string, name: string | null = null): Promise<FileResult> {
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
    if (code === 'ENOENT' && name !== null) {
      const message = `no flow "${name}": cannot read the file: no such file`;
      return { file, ok: false, findings: [finding('error', '', message, await flowNameHint(name))] };
    }
    const why = code === 'EISDIR' ? 'it is a folder' : describeIoError(err);
    return { file, ok: false, findings: [finding('error', '', `cannot read the file: ${why}`)] };
  }
  const result = checkFlowText(text);
  if (!result.ok) return { file, ok: false, findings: result.findings };
  const { flow } = result;
  const states = Object.keys(flow.states).length;
  return { file, ok: true, findings: result.findings, states, id: flow.id, env: flowEnvNames(flow) };
}

/** A flow id defined by more than one file checked is refused in all but the first, as the server does. */
function refuseDuplicateIds(results: FileResult[]): void {
  const owners = new Map<string, string>();
  for (const r of results) {
    if (!r.ok || r.id === undefined) continue;
    const owner = owners.get(r.id);
    if (owner === undefined) owners.set(r.id, r.file);
    else {
      r.ok = false;
      r.findings.unshift(duplicateFlowId(owner, r.id));
    }
  }
}

/** A warning for each variable the flow reads that is not set here; the server's machine may set it. */
function unsetEnvWarnings(env: readonly string[]): Finding[] {
  return unsetEnvNames(env, process.env).map((name) =>
    finding(
      'warning',
      '',
      `environment variable ${name} is not set here`,
      "a warning only, as the server's machine may set it; unset there, it renders as empty text",
    ),
  );
}

function report(r: FileResult): string {
  if (!r.ok) return formatFindings(r.file, r.findings);
  const warnings = r.findings.length;
  const lines = r.findings.map((f) => formatFinding(r.file, f));
  const counted = warnings === 0 ? '' : `, ${warnings} warning${warnings === 1 ? '' : 's'}`;
  const env = r.env?.length ? `; reads env ${r.env.join(', ')}` : '';
  lines.push(`${r.file}: ok (${r.states ?? 0} states${counted}${env})`);
  return lines.join('\n');
}
