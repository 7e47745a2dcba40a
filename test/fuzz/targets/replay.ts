/**
 * Fuzz target: what `switchboard replay` and recovery do with a recorded journal. An input is a journal's JSON
 * lines (the recorded calls of test/replay/ are the seeds). It is run through `switchboard replay` itself (a
 * file, the shipped flows), and through replayCall, its difference report and recover against the compiled
 * example flow it names, understanding the words again (exact examples and entity rules) for half the inputs.
 * Only JOURNAL_* and RESUME_REFUSED may come out, and the command must exit 0 or 1.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recover } from '../../../src/call/recovery.ts';
import { replayCall } from '../../../src/call/replay.ts';
import { Understanding } from '../../../src/call/understanding.ts';
import { describeDivergence, main as replayCommand } from '../../../src/cli/replay.ts';
import { checkFlowText, compileFlow, type CompiledFlow } from '../../../src/flow/index.ts';
import { parseJsonLines } from '../../../src/journal/records.ts';
import { Logger } from '../../../src/observability/logger.ts';
import { EXAMPLE_FLOWS, exampleFlowFile } from '../../fixtures/example-flows.ts';
import { check, codesOf, typed, typedAsync, type FuzzTarget } from '../target.ts';
import { JOURNAL_WORDS, journalText, resign } from './journal-lines.ts';

const JOURNAL = codesOf('JOURNAL', 'RESUME');
const flows = new Map<string, { compiled: CompiledFlow; understanding: Understanding }>();
let dir = '';

async function setup(): Promise<void> {
  const logger = new Logger({ level: 'error', sink: () => {} });
  for (const id of EXAMPLE_FLOWS) {
    const result = checkFlowText(readFileSync(exampleFlowFile(id), 'utf8'));
    if (!result.ok) throw new Error(`example flow ${id} does not validate`);
    const compiled = compileFlow(result.flow);
    flows.set(id, { compiled, understanding: new Understanding(compiled.flow, { model: null, logger }) });
  }
  dir = mkdtempSync(join(tmpdir(), 'switchboard-fuzz-replay-'));
  process.env.FLOWS_DIR = fileURLToPath(new URL('../../../flows/', import.meta.url));
}

async function close(): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
}

/** `switchboard replay FILE --recorded-intents`, its report kept off the console. */
async function command(input: Buffer): Promise<number> {
  const file = join(dir, 'call.jsonl');
  writeFileSync(file, input);
  const { log, error } = console;
  Object.assign(console, { log: () => {}, error: () => {} });
  try {
    return await replayCommand([file, '--recorded-intents']);
  } finally {
    Object.assign(console, { log, error });
  }
}

async function run(input: Buffer): Promise<void> {
  // A typed error the command throws is printed by the CLI's entry point, with exit status 1.
  const status = await typedAsync(JOURNAL, () => command(input));
  check(status === undefined || status === 0 || status === 1, `switchboard replay exited ${status}`);
  const journal = typed(JOURNAL, () => parseJsonLines(input.toString('utf8')));
  if (!journal) return;
  const { records } = journal;
  const start = records[0];
  const flow = flows.get(start?.kind === 'start' ? start.flow : 'demo') ?? flows.get('demo')!;
  typed(JOURNAL, () => recover(flow.compiled.machine, records));
  // replayCall takes journals that begin with their start record: the command checks that first.
  if (start?.kind !== 'start') return;
  const again = input.length % 2 === 1 ? { understanding: flow.understanding } : {};
  const report = await typedAsync(JOURNAL, () => replayCall(flow.compiled, records, again));
  if (report?.divergence) describeDivergence(report.divergence);
}

export const replay: FuzzTarget = {
  name: 'replay',
  format: 'jsonl',
  arbitrary: journalText,
  dictionary: [...JOURNAL_WORDS, '"pizza"', '"demo"', '"support"', '"greet"', '"size"', '"order"'],
  maxBytes: 32_768,
  slowMs: 5000,
  repair: resign,
  setup,
  close,
  run,
};
