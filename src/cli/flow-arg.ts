/**
 * A command-line FLOW argument: a path to a .json file, or a flow id read from $FLOWS_DIR/<id>.json. The flow is
 * checked as the server checks it, and refused with the same report. An id with no file gets "did you mean"
 * among the flows in FLOWS_DIR.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isFlowFileName } from '../config/flows.ts';
import { checkFlowText, formatFindings, nameHints, type FlowFile } from '../flow/index.ts';

export type FlowArg = { ok: true; path: string; flow: FlowFile } | { ok: false; message: string };

/** Reads and checks a FLOW argument; `idOnly` for a command that takes flow ids only: no hint offers a path. */
export async function loadFlowArg(arg: string, { idOnly = false } = {}): Promise<FlowArg> {
  const { path, byName } = flowArgPath(arg);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = describeIoError(err);
    return {
      ok: false,
      message: byName
        ? `no flow "${arg}": cannot read ${path}: ${reason} (${await flowNameHint(arg, { idOnly })})`
        : `cannot read ${path}: ${reason}`,
    };
  }
  const result = checkFlowText(text);
  if (!result.ok) return { ok: false, message: formatFindings(path, result.findings) };
  return { ok: true, path, flow: result.flow };
}

/** Where a FLOW argument points: a path as given (it ends in .json or has a slash), else $FLOWS_DIR/<id>.json. */
export function flowArgPath(arg: string): { path: string; byName: boolean } {
  const byName = !(arg.endsWith('.json') || /[\\/]/.test(arg));
  return { path: byName ? join(flowsDir(), `${arg}.json`) : arg, byName };
}

/** For a flow id with no file: the closest flows in FLOWS_DIR, and the other ways to name a flow. */
export async function flowNameHint(id: string, { idOnly = false } = {}): Promise<string> {
  const dir = flowsDir();
  const otherWays = idOnly ? 'set FLOWS_DIR' : 'set FLOWS_DIR, or pass a path to a .json file';
  let names: string[];
  try {
    names = (await readdir(dir)).filter(isFlowFileName).map((file) => file.slice(0, -'.json'.length));
  } catch (err) {
    return `cannot list ${dir}: ${describeIoError(err)}; ${otherWays}`;
  }
  const known =
    names.length === 0 ? `${dir} holds no flow files` : nameHints(new Set(names.sort()), 'flows')(id);
  return `${known}; or ${otherWays}`;
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
