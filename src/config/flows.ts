/**
 * Flow files as the server reads them: which files in the flows folder are flows, and how one file's text
 * becomes a compiled flow or the findings that refuse it.
 */
import { checkFlowText, compileFlow, type CompiledFlow, type Finding } from '../flow/index.ts';

export interface RejectedFlow {
  file: string;
  findings: Finding[];
}

/** JSON files in the flows folder that are not flows. */
const NOT_FLOWS = new Set(['flow.schema.json', 'package.json']);

/** Is `name` (a file name, no folder) a flow file? */
export function isFlowFileName(name: string): boolean {
  return name.endsWith('.json') && !name.startsWith('.') && !NOT_FLOWS.has(name);
}

/**
 * Why a file is refused when another file already defines its flow id: the file that had the id first keeps it
 * (at start-up, the first by file name).
 */
export function duplicateFlowId(owner: string, id: string): Finding {
  return {
    severity: 'error',
    pointer: '/id',
    message: `another file (${owner}) already defines flow "${id}"`,
  };
}

export type CompileResult =
  { ok: true; compiled: CompiledFlow; warnings: Finding[] } | { ok: false; findings: Finding[] };

/** Parse, validate and compile one flow file's text. */
export function compileFlowText(text: string): CompileResult {
  const result = checkFlowText(text);
  if (!result.ok) return result;
  return { ok: true, compiled: compileFlow(result.flow), warnings: result.findings };
}
