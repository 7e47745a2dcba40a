/**
 * A command-line FLOW argument: a path to a .json file, or a flow id read from $FLOWS_DIR/<id>.json. The flow is
 * checked as the server checks it, and refused with the same report.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkFlowText, formatFindings, type FlowFile } from '../flow/index.ts';

export type FlowArg = { ok: true; path: string; flow: FlowFile } | { ok: false; message: string };

export async function loadFlowArg(arg: string): Promise<FlowArg> {
  const byPath = arg.endsWith('.json') || /[\\/]/.test(arg);
  const path = byPath ? arg : join(flowsDir(), `${arg}.json`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = describeIoError(err);
    return {
      ok: false,
      message: byPath
        ? `cannot read ${path}: ${reason}`
        : `no flow "${arg}": cannot read ${path}: ${reason} (set FLOWS_DIR or pass a path to a .json file)`,
    };
  }
  const result = checkFlowText(text);
  if (!result.ok) return { ok: false, message: formatFindings(path, result.findings) };
  return { ok: true, path, flow: result.flow };
}

/**
 * FLOWS_DIR read the way configFromEnv reads it, without configFromEnv itself: that also checks server
 * settings (PORT, TTS, PUBLIC_URL) whose mistakes should not stop a flow command.
 */
function flowsDir(): string {
  const dir = process.env.FLOWS_DIR?.trim();
  return dir ? dir : './flows';
}

export function describeIoError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return err instanceof Error ? err.message : String(err);
}
