/**
 * Loads the flows directory: every `*.json` file is parsed, validated and compiled. An invalid flow is reported
 * and left out; the valid ones are still served.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compileFlow, validateFlow, type CompiledFlow, type Finding } from '../flow/index.ts';

export interface RejectedFlow {
  file: string;
  findings: Finding[];
}

export interface FlowCatalog {
  readonly flows: ReadonlyMap<string, CompiledFlow>;
  readonly rejected: readonly RejectedFlow[];
}

const NOT_FLOWS = new Set(['flow.schema.json', 'package.json']);

/** Load and compile every flow in `dir`, keyed by flow id. */
export async function loadFlowCatalog(dir: string): Promise<FlowCatalog> {
  const flows = new Map<string, CompiledFlow>();
  const rejected: RejectedFlow[] = [];
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json') && !NOT_FLOWS.has(f)).sort();
  for (const file of files) {
    const result = await loadFlowFile(join(dir, file));
    if (!result.ok) {
      rejected.push({ file, findings: result.findings });
      continue;
    }
    const id = result.compiled.flow.id;
    if (flows.has(id)) {
      rejected.push({
        file,
        findings: [{ pointer: '/id', message: `another file already defines flow "${id}"` }],
      });
      continue;
    }
    flows.set(id, result.compiled);
  }
  return { flows, rejected };
}

/** Parse, validate and compile one flow file. */
export async function loadFlowFile(
  path: string,
): Promise<{ ok: true; compiled: CompiledFlow } | { ok: false; findings: Finding[] }> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    return {
      ok: false,
      findings: [{ pointer: '', message: `not readable JSON: ${(err as Error).message}` }],
    };
  }
  const result = validateFlow(json);
  if (!result.ok) return result;
  return { ok: true, compiled: compileFlow(result.flow) };
}
