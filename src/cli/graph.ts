/**
 * `switchboard graph`: draw a flow's states and transitions as a Mermaid or Graphviz dot diagram, so a flow
 * can be reviewed (or pasted into a README) without reading its JSON.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { flowGraph, GRAPH_FORMATS, type GraphFormat } from '../flow/graph.ts';
import { flowEnvNames, unsetEnvNames } from '../flow/index.ts';
import { describeIoError, loadFlowArg } from './flow-arg.ts';

const HELP = `usage: switchboard graph FLOW [--format mermaid|dot] [-o FILE]

  FLOW               a flow file (path to a .json file), or a flow id read from $FLOWS_DIR/<id>.json
                     (FLOWS_DIR defaults to ./flows)
  --format FORMAT    mermaid (default; GitHub renders it in \`\`\`mermaid blocks) or dot (Graphviz)
  -o, --output FILE  write the diagram to FILE instead of standard output

Dashed edges are the policy fallback (taken when a waiting state runs out of retries), global intents
(heard in any waiting state) and the supervisor's onGiveUp state. The environment variables the flow reads
({{env.NAME}}) are noted on standard error, with those not set here.

Exit status: 0 when the diagram was written; 1 when the flow cannot be loaded or the file written; 2 for a
usage error.`;

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

  const loaded = await loadFlowArg(positionals[0]!);
  if (!loaded.ok) {
    console.error(loaded.message.includes('\n') ? loaded.message : `${NAME}: ${loaded.message}`);
    return 1;
  }

  const env = flowEnvNames(loaded.flow);
  if (env.length > 0) {
    const unset = unsetEnvNames(env, process.env);
    const notSet = unset.length > 0 ? `; not set here: ${unset.join(', ')}` : '';
    console.error(`(flow "${loaded.flow.id}" reads environment variables ${env.join(', ')}${notSet})`);
  }
  const diagram = flowGraph(loaded.flow, format);
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
