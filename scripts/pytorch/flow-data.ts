/**
 * Prints a flow's intent training data as JSON, `{ "intents": { name: [examples] }, "outOfScope": [...] }`:
 * exactly what the server trains the flow's built-in model on (the flow's intents, the built-in intents it does
 * not redefine, and the generic out-of-scope sentences). train_classifier.py reads it.
 *
 *   node --import tsx scripts/pytorch/flow-data.ts FLOW > data.json
 *
 * FLOW is a path to a .json file or a flow id in $FLOWS_DIR, as for the switchboard command.
 */
import { loadFlowArg } from '../../src/cli/flow-arg.ts';
import { flowTrainingData } from '../../src/flow/training-data.ts';

const NAME = 'flow-data';

async function main(args: string[]): Promise<number> {
  if (args.length !== 1 || args[0] === '--help' || args[0] === '-h') {
    console.error(`usage: node --import tsx scripts/pytorch/flow-data.ts FLOW > data.json`);
    return args.length === 1 ? 0 : 2;
  }
  const loaded = await loadFlowArg(args[0]!);
  if (!loaded.ok) {
    // A report of findings is several lines that already name the file.
    console.error(loaded.message.includes('\n') ? loaded.message : `${NAME}: ${loaded.message}`);
    return 1;
  }
  process.stdout.write(`${JSON.stringify(flowTrainingData(loaded.flow), null, 2)}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
