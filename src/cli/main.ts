/**
 * The `switchboard` command. Each subcommand lives in its own file and is loaded only when used, so
 * `switchboard call` does not pay for the server's start-up and vice versa.
 */
const COMMANDS: Record<
  string,
  { summary: string; load: () => Promise<{ main: (args: string[]) => Promise<number> }> }
> = {
  serve: {
    summary: 'run the server (HTTP webhooks + Media Streams websocket)',
    load: () => import('./serve.ts'),
  },
  call: { summary: 'place a simulated call against a running server', load: () => import('./call.ts') },
  load: {
    summary: 'place many calls against your own server and report its turns, audio and CPU per step',
    load: () => import('./load.ts'),
  },
  validate: {
    summary:
      'check flows (files, ids or a folder): schema, targets, reachability, slots, env (exit 1 on errors)',
    load: () => import('./validate.ts'),
  },
  graph: {
    summary: "draw a flow's states and transitions (mermaid or dot)",
    load: () => import('./graph.ts'),
  },
  chat: {
    summary: 'talk to a flow in the terminal, typing what the caller says',
    load: () => import('./chat.ts'),
  },
  train: {
    summary: 'train the intent model from a JSON file of examples into a model folder',
    load: () => import('./train.ts'),
  },
  nlu: {
    summary: 'show the intent and entities the trained model finds in an utterance',
    load: () => import('./nlu.ts'),
  },
  replay: {
    summary: 'replay recorded calls against the current flows and models (exit 1 at a difference)',
    load: () => import('./replay.ts'),
  },
  learn: {
    summary: "write a review file of a flow's recorded caller turns, the ones most worth labeling first",
    load: () => import('./learn.ts'),
  },
  evaluate: {
    summary: 'compare a candidate intent model with the live one on recorded calls and labeled turns',
    load: () => import('./evaluate.ts'),
  },
  models: {
    summary: "list a flow's model versions, promote a candidate for new calls, or roll back",
    load: () => import('./models.ts'),
  },
  calls: {
    summary: "list journaled calls, export one call's journal as JSON lines, or erase a caller's calls",
    load: () => import('./calls.ts'),
  },
  keys: {
    summary: 'generate a journal encryption key, or re-encrypt journals under the newest key',
    load: () => import('./keys.ts'),
  },
  dial: {
    summary: "place a call that runs a flow when it is answered, through a running server's calls API",
    load: () => import('./dial.ts'),
  },
  campaign: {
    summary: 'call every number of a CSV file with a flow (rate, retries, quiet hours), resumable',
    load: () => import('./campaign.ts'),
  },
  twilio: {
    summary:
      "list the Twilio account's numbers, or point one at this server (voice webhook, status callback)",
    load: () => import('./twilio.ts'),
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return [
    'usage: switchboard <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    `Run "switchboard <command> --help" for a command's options.`,
    'Exit status: 0 on success, 1 when what was asked failed, 2 for a usage error.',
  ].join('\n');
}

async function run(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    console.error(usage());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`switchboard: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const { main } = await command.load();
  return main(args);
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (err) {
  console.error(`switchboard: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
