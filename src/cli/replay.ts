/**
 * `switchboard replay LOG.jsonl...`: replays recorded calls against the current flows and intent models, so a
 * change that would make a recorded call go differently is caught before it reaches callers. Exit 0 when every
 * call replays identically, 1 at a difference (or a damaged log), 2 on usage errors.
 */
import { readFile } from 'node:fs/promises';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { replayCall, type Divergence } from '../call/replay.ts';
import { Understanding } from '../call/understanding.ts';
import { isSwitchboardError, SwitchboardError } from '../errors.ts';
import { describeEffect, describeEvent, describeUnderstanding } from '../flow/describe.ts';
import { compileFlow } from '../flow/index.ts';
import { keyringFromEnv } from '../journal/keyring.ts';
import { parseJsonLines } from '../journal/records.ts';
import { openRecord } from '../journal/sealing.ts';
import { Logger } from '../observability/logger.ts';
import { describeIoError, loadFlowArg } from './flow-arg.ts';
import { loadFlowModel } from './flow-model.ts';

const HELP = `usage: switchboard replay LOG.jsonl... [--recorded-intents]

  LOG.jsonl           a call's journal as JSON lines (switchboard calls export CALL_ID > LOG.jsonl)
  --recorded-intents  take the intents recorded on the call instead of understanding its words again

Each call's events are run through the current version of its flow (read from $FLOWS_DIR/<flow>.json) and the
states and effects compared with those recorded. What the caller said is understood again by the flow's current
intent model (trained into $MODELS_DIR first if needed), so a model change that alters a call is caught too.
Exit status: 0 when every call replays identically; 1 at the first difference, shown with its record number and
what it is (the key pressed, the words said, the web request's answer, ...) in the state it came in, what was
recorded and what the replay gave, and the states each went through on it; 2 on usage errors.`;

const NAME = 'switchboard replay';

export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { 'recorded-intents': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    console.error(`${NAME}: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(HELP);
    return 0;
  }
  if (parsed.positionals.length === 0) {
    console.error(`${NAME}: expected at least one LOG.jsonl\n\n${HELP}`);
    return 2;
  }
  const logger = new Logger({ level: 'warn', sink: (r) => process.stderr.write(JSON.stringify(r) + '\n') });
  let failed = 0;
  for (const file of parsed.positionals) {
    const ok = await replayFile(file, parsed.values['recorded-intents'] !== true, logger);
    if (!ok) failed += 1;
  }
  if (parsed.positionals.length > 1) {
    console.log(
      `${parsed.positionals.length - failed} of ${parsed.positionals.length} calls replay identically`,
    );
  }
  return failed === 0 ? 0 : 1;
}

async function replayFile(file: string, understandAgain: boolean, logger: Logger): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    console.log(`${file}: cannot read: ${describeIoError(err)}`);
    return false;
  }
  let journal;
  try {
    journal = parseJsonLines(text);
    // A log copied from the store as it is kept (sealed) opens with JOURNAL_KEY, like `calls export`.
    const keyring = keyringFromEnv(process.env);
    journal.records = journal.records.map((r) => openRecord(r, keyring));
    const withheld = journal.records.find((r) => r.withheld !== undefined);
    if (withheld) {
      throw new SwitchboardError(
        'JOURNAL_KEY_MISSING',
        `record ${withheld.seq} is encrypted under key ${withheld.withheld}: set JOURNAL_KEY to replay it`,
      );
    }
  } catch (err) {
    console.log(`${file}: ${isSwitchboardError(err) ? `${err.code}: ${err.message}` : String(err)}`);
    return false;
  }
  const { records, tornTail } = journal;
  if (tornTail) console.log(`${file}: its last record was cut short (a write interrupted) and is left out`);
  const start = records[0];
  if (start?.kind !== 'start') {
    console.log(`${file}: JOURNAL_CORRUPT: the log does not begin with the call's start record`);
    return false;
  }
  const loaded = await loadFlowArg(start.flow);
  if (!loaded.ok) {
    console.log(`${file}: flow "${start.flow}" of the call cannot be loaded: ${loaded.message}`);
    return false;
  }
  const compiled = compileFlow(loaded.flow);
  const speaks = records.some((r) => r.kind === 'in' && r.event.type === 'utterance');
  let understanding: Understanding | undefined;
  if (understandAgain && speaks) {
    const { model } = await loadFlowModel(loaded.flow, loaded.path);
    understanding = new Understanding(compiled.flow, { model, logger });
  }
  const report = await replayCall(compiled, records, understanding ? { understanding } : {});
  const versions =
    report.recordedVersion === report.replayedVersion
      ? `v${report.replayedVersion}`
      : `recorded on v${report.recordedVersion}, replayed on v${report.replayedVersion}`;
  const heard = understanding ? `, ${report.understood} utterances understood again` : '';
  if (report.divergence === null) {
    console.log(`${file}: identical (${report.flow} ${versions}, ${report.events} events${heard})`);
    return true;
  }
  console.log(`${file}: DIFFERS (${report.flow} ${versions}) ${describeDivergence(report.divergence)}`);
  return false;
}

/**
 * The first difference in words: the record and what it is, what the call did and what the replay gave, and the
 * states each went through on it. Transcripts are shown: the report is for whoever replays their own calls.
 */
export function describeDivergence(d: Divergence): string {
  if (d.what === 'flow') return `at record ${d.record}: the call ran flow ${d.expected}, not ${d.got}`;
  const event = describeEvent(d.event);
  const state = d.state === null ? '' : ` in state \`${d.state}\``;
  const detail =
    event.detail === null || d.what === 'understanding'
      ? ''
      : d.event.type === 'utterance'
        ? `, understood as ${event.detail}`
        : ` (${event.detail})`;
  const lines = [`at record ${d.record}: ${event.title}${state}${detail}`];
  const label = (name: string): string => `  ${name}:`.padEnd(LABEL_WIDTH);
  const indent = ' '.repeat(LABEL_WIDTH);
  if (d.what === 'understanding') {
    const understood = (u: unknown): string => describeUnderstanding(u as Record<string, unknown>);
    lines.push(`${label('understood')}recorded as ${understood(d.expected)}`);
    lines.push(`${indent}now as ${understood(d.got)}`);
  } else if (d.what === 'state') {
    lines.push(
      `${label('state')}recorded \`${String(d.expected)}\`, the replay went to \`${String(d.got)}\``,
    );
  }
  // Only the replay's path can show states passed without stopping: say so, or the paths look different there.
  const passedThrough =
    d.replayedPath.length > 2 ? ' (the journal keeps only the states a call stops in)' : '';
  lines.push(`${label('recorded path')}${path(d.recordedPath)}${passedThrough}`);
  lines.push(`${label('replayed path')}${path(d.replayedPath)}`);
  const recorded = d.recordedEffects.map((e) => describeEffect(e).title);
  const replayed = d.replayedEffects.map((e) => describeEffect(e).title);
  if (!isDeepStrictEqual(recorded, replayed)) {
    const list = (titles: string[]): string => (titles.length === 0 ? '(none)' : titles.join(`\n${indent}`));
    lines.push(
      `${label('recorded effects')}${list(recorded)}`,
      `${label('replayed effects')}${list(replayed)}`,
    );
  } else if (d.what === 'effects') {
    // The effects read the same in words, so they differ in a value: show the first such pair as it is.
    const i = d.recordedEffects.findIndex(
      (effect, at) => JSON.stringify(effect) !== JSON.stringify(d.replayedEffects[at]),
    );
    lines.push(
      `${label('recorded effect')}${JSON.stringify(d.recordedEffects[i])}`,
      `${label('replayed effect')}${JSON.stringify(d.replayedEffects[i])}`,
    );
  }
  return lines.join('\n');
}

/** Width of the labels in the difference report, so their values line up. */
const LABEL_WIDTH = '  recorded effects: '.length;

function path(states: readonly string[]): string {
  return states.length === 0 ? '(none)' : states.join(' → ');
}
