/**
 * `switchboard chat FLOW`: a typed conversation with a flow in the terminal, so its author can try it without a
 * phone or audio. Each line is something the caller says; a line starting with `#` presses keys instead (`#1`,
 * `#5551234#`). After each turn the state and slots are shown.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { performHttp } from '../call/http-action.ts';
import { httpNetwork } from '../call/http-network.ts';
import { httpAllowHosts } from '../config/env.ts';
import { TextCall } from '../call/text-call.ts';
import { compileFlow, unsetEnvOfRequest } from '../flow/index.ts';
import { encodeRecord } from '../journal/records.ts';
import { Logger } from '../observability/logger.ts';
import { SharedIntentModel } from '../nlu/shared-model.ts';
import { describeIoError, loadFlowArg } from './flow-arg.ts';
import { loadFlowModel } from './flow-model.ts';

const HELP = `usage: switchboard chat FLOW [--timeouts] [--exact] [--journal FILE]

  FLOW        a flow file (path to a .json file), or a flow id read from $FLOWS_DIR/<id>.json
  --timeouts  run the flow's no-input timers for real (off by default: typing is slower than talking)
  --exact     match the flow's examples exactly, without its trained intent model
  --journal FILE
              save the conversation's journal as JSON lines when it ends: a recorded call that
              switchboard replay (and npm test, from test/replay/) checks against later versions

Type what the caller says. As on a call, an exact example (ignoring case and punctuation) is its intent and
anything else goes to the flow's intent model, trained into $MODELS_DIR first if needed.
Start a line with # to press keys instead: #1, #5551234#. Ctrl-D or /quit hangs up. A web request that fails
is shown with its reason (an environment variable not set, say), besides what the flow says about it. As
with serve, a web request reaches loopback and private addresses only where HTTP_ALLOW_HOSTS or the state's
http.allowPrivate allows them.

Exit status: 0 when the conversation ran (to its end or to the end of input); 1 when the flow cannot be
loaded, HTTP_ALLOW_HOSTS is invalid or the journal cannot be written; 2 for a usage error.`;

const NAME = 'switchboard chat';

export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        timeouts: { type: 'boolean' },
        exact: { type: 'boolean' },
        journal: { type: 'string' },
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
  const loaded = await loadFlowArg(positionals[0]!);
  if (!loaded.ok) {
    console.error(loaded.message.includes('\n') ? loaded.message : `${NAME}: ${loaded.message}`);
    return 1;
  }

  let allow: string[];
  try {
    allow = httpAllowHosts(process.env);
  } catch (err) {
    console.error(`${NAME}: ${(err as Error).message}`);
    return 1;
  }
  // Only problems are worth interrupting the conversation for.
  const logger = new Logger({
    level: 'warn',
    sink: (record) => process.stderr.write(JSON.stringify(record) + '\n'),
  });
  let model: SharedIntentModel | null = null;
  if (values.exact !== true) {
    try {
      const flowModel = await loadFlowModel(loaded.flow, loaded.path);
      if (flowModel.note !== null) console.error(`(${flowModel.note})`);
      model = new SharedIntentModel(flowModel.model, flowModel.version);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      console.error(`${NAME}: no intent model (${why}); matching exact examples only`);
    }
  }
  const lines = createInterface({ input: process.stdin, output: process.stdout, terminal: false });
  // Taken now: the iterator buffers lines from this moment, while a bare `for await` further down would drop
  // the ones piped in before it starts (the greeting and the first turns take a while).
  const typed = lines[Symbol.asyncIterator]();
  let call: TextCall | null = null;
  const compiled = compileFlow(loaded.flow);
  const ended = new Promise<void>((resolve) => {
    call = new TextCall({
      compiled,
      model,
      logger,
      // Each conversation is a call of its own: its web requests' idempotency keys must not repeat another's.
      callId: `chat-${randomBytes(6).toString('hex')}`,
      timers: values.timeouts === true,
      // The flow's author sees why a web request failed, not only the apology the flow says for it.
      http: async (effect, signal) => {
        const unsetEnv = unsetEnvOfRequest(compiled.flow, effect.id, process.env);
        const outcome = await performHttp(effect, signal, { logger, unsetEnv, network: httpNetwork, allow });
        if (!outcome.ok) console.log(`  (web request failed: ${outcome.reason})`);
        return outcome;
      },
      onSay: (text) => console.log(`agent: ${text}`),
      onEnd: (_reason, words) => {
        console.log(`(${words})`);
        resolve();
      },
    });
  });
  const active = call as unknown as TextCall;
  const show = (): void => {
    if (active.ended !== null) return;
    const slots = Object.entries(active.slots).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    console.log(`  [${active.state}]${slots.length ? ` ${slots.join(' ')}` : ''}`);
  };

  active.start();
  await active.settled();
  show();
  for (let next = await typed.next(); next.done !== true; next = await typed.next()) {
    const input = next.value.trim();
    if (input === '/quit') break;
    if (input === '') continue;
    if (input.startsWith('#')) active.press(input.slice(1));
    else active.say(input);
    await active.settled();
    show();
    if (active.ended !== null) break;
  }
  lines.close();
  active.hangup();
  await ended;
  if (values.journal !== undefined) {
    await active.finished;
    const records = await active.records();
    try {
      await writeFile(values.journal, records.map((r) => encodeRecord(r) + '\n').join(''));
    } catch (err) {
      console.error(`${NAME}: cannot write ${values.journal}: ${describeIoError(err)}`);
      return 1;
    }
    console.error(`(journal of ${records.length} records saved to ${values.journal})`);
  }
  model?.retire();
  await model?.released;
  return 0;
}
