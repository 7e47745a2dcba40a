/**
 * `switchboard graph`: draw a flow's states and transitions as a Mermaid or Graphviz dot diagram, so a flow
 * can be reviewed (or pasted into a README) without reading its JSON.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { flowGraph, GRAPH_FORMATS, type GraphFormat } from '../flow/graph.ts';
import { checkFlowText, formatFindings } from '../flow/index.ts';

const HELP = `usage: switchboard graph FLOW [--format mermaid|dot] [-o FILE]

  FLOW               a flow file (path to a .json file), or a flow id read from $FLOWS_DIR/<id>.json
                     (FLOWS_DIR defaults to ./flows)
  --format FORMAT    mermaid (default; GitHub renders it in \`\`\`mermaid blocks) or dot (Graphviz)
  -o, --output FILE  write the diagram to FILE instead of standard output

Dashed edges are the policy fallback, taken when a waiting state runs out of retries.`;

const NAME = 'switchboard graph';

export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        format: { type: 'string', default: 'mermaid' },
        output: { type: 'string', short: 'o' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    console.error(`${NAME}: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(`${NAME}: expected one FLOW (a .json file or a flow id)\n\n${HELP}`);
    return 2;
  }
  const format = values.format;
  if (!isFormat(format)) {
    console.error(`${NAME}: unknown --format "${format}" (use ${GRAPH_FORMATS.join(' or ')})`);
    return 2;
  }

  const arg = positionals[0]!;
  const byPath = arg.endsWith('.json') || /[\\/]/.test(arg);
  const path = byPath ? arg : join(flowsDir(), `${arg}.json`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = describeIoError(err);
    console.error(
      byPath
        ? `${NAME}: cannot read ${path}: ${reason}`
        : `${NAME}: no flow "${arg}": cannot read ${path}: ${reason} (set FLOWS_DIR or pass a path to a .json file)`,
    );
    return 1;
  }

  // The same checks as `switchboard validate`, with the same report: a flow that would be refused is not drawn.
  const result = checkFlowText(text);
  if (!result.ok) {
    console.error(formatFindings(path, result.findings));
    return 1;
  }

  const diagram = flowGraph(result.flow, format);
  if (values.output === undefined) {
    // The diagram already ends with a newline; console.log adds its own.
    console.log(diagram.slice(0, -1));
    return 0;
  }
  try {
    await writeFile(values.output, diagram);
  } catch (err) {
    console.error(`${NAME}: cannot write ${values.output}: ${describeIoError(err)}`);
    return 1;
  }
  return 0;
}

function isFormat(value: string): value is GraphFormat {
  return (GRAPH_FORMATS as readonly string[]).includes(value);
}

/**
 * FLOWS_DIR read the way configFromEnv reads it, without configFromEnv itself: that also checks server
 * settings (PORT, TTS, PUBLIC_URL) whose mistakes should not stop a diagram from being drawn.
 */
function flowsDir(): string {
  const dir = process.env.FLOWS_DIR?.trim();
  return dir ? dir : './flows';
}

function describeIoError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return err instanceof Error ? err.message : String(err);
}
