/**
 * `switchboard evaluate FLOW --model VERSION`: a candidate model (from `train FLOW --with`) against the live one,
 * on the caller turns of recorded calls (from the store, or journal files) and on a labeled review file. Turns
 * whose understanding changes are listed with where the call would have gone; a labeled turn the candidate gets
 * wrong where the live model got it right is a regression, and exits 1, so CI can gate a model.
 */
import { access, readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Understanding, localDate } from '../call/understanding.ts';
import { isSwitchboardError } from '../errors.ts';
import { compileFlow, type CallContext, type CompiledFlow } from '../flow/index.ts';
import { route, routingTable, type Route } from '../flow/route.ts';
import { keyringFromEnv } from '../journal/keyring.ts';
import { parseJsonLines } from '../journal/records.ts';
import { openRecord } from '../journal/sealing.ts';
import { evaluate, type ChangedTurn, type Evaluation, type Judge } from '../learning/evaluate.ts';
import { OUT_OF_SCOPE_LABEL, parseReview } from '../learning/review-file.ts';
import { callerTurns, type CallerTurn } from '../learning/turns.ts';
import { flowTrainingData } from '../flow/training-data.ts';
import type { IntentClassifier } from '../nlu/intent-classifier.ts';
import { ModelCache } from '../nlu/model-cache.ts';
import { IntentModel } from '../nlu/model-dir.ts';
import { Logger } from '../observability/logger.ts';
import { loadFlowArg } from './flow-arg.ts';
import { loadFlowModel, modelsDir } from './flow-model.ts';
import { CommandFailure, describeFailure, openStoreFromEnv } from './store-env.ts';
import { flowTurns, parseAge } from './learn.ts';

const HELP = `usage: switchboard evaluate FLOW --model VERSION [--since 7d] [--labels REVIEW_FILE] [JOURNAL_FILE ...]

Replays recorded caller turns of FLOW through a candidate model (VERSION, as "switchboard train FLOW --with"
printed it) and the live one side by side. Lists each turn understood differently: the words, the state, the
live and the candidate intent and confidence, and where the call would have gone with each. Totals no-matches
the candidate understands and turns it no longer understands.

The turns are those of the flow's calls in the store (STORE_URL) active within --since (30m, 12h, 7d, all;
default 7d), or of the journal files given (switchboard calls export CALL_ID > FILE). With --labels, a review
file from "switchboard learn" with labels filled in: each model's accuracy on its labeled turns, and every
turn the candidate gets wrong that the live model got right, a regression.

  --model VERSION    the candidate, in $MODELS_DIR/<flow>/VERSION
  --since AGE        calls from the store active in this long (ignored with journal files)
  --labels FILE      a labeled review file
  -h, --help         show this help

Exit status: 0 when no labeled turn regresses; 1 when one does, or the flow, a model, the store or a file cannot
be read; 2 for a usage error.`;

const NAME = 'switchboard evaluate';

/** A route in words: where the call goes, or what it does in place. */
function describe(r: Route): string {
  if (r.kind === 'goto') return r.slots ? `collect ${Object.values(r.slots).join(' ')}` : `goto ${r.target}`;
  if (r.kind === 'stay' && r.action.kind === 'retry') return 'ask again';
  if (r.kind === 'stay' && r.action.kind === 'confirm') return `collect ${r.action.value}`;
  if (r.kind === 'stay' && r.action.kind === 'checkGlobal') return `check ${r.action.intent}`;
  return r.kind === 'stay' ? `stay (${r.action.kind})` : 'ignored';
}

/** What a call on `compiled` understands with `model`, and where it goes, for a turn said in a state. */
export function judge(compiled: CompiledFlow, model: IntentClassifier): Judge {
  const understanding = new Understanding(compiled.flow, {
    model,
    logger: new Logger({ level: 'error', sink: () => {} }),
  });
  const table = routingTable(compiled.flow, compiled.policy);
  const today = localDate(Date.now());
  return async (heard, state) => {
    const event = await understanding.interpret(heard, state, 0, today);
    const known = compiled.flow.states[state] !== undefined;
    const ctx = { ...compiled.machine.config.context, state, playing: null } as CallContext;
    return {
      intent: event.intent,
      confidence: event.confidence,
      path: known ? describe(route(table, state, ctx, event)) : '-',
    };
  };
}

async function turnsFromFiles(files: readonly string[], flowId: string): Promise<CallerTurn[]> {
  const keyring = keyringFromEnv(process.env);
  const turns: CallerTurn[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new CommandFailure(`cannot read ${file}: ${(err as Error).message}`);
    }
    let records;
    try {
      records = parseJsonLines(text).records.map((r) => openRecord(r, keyring));
    } catch (err) {
      throw new CommandFailure(`${file}: ${isSwitchboardError(err) ? err.message : String(err)}`);
    }
    if (records.some((r) => r.withheld !== undefined))
      throw new CommandFailure(`${file}: the words are sealed under a key not set here: set JOURNAL_KEY`);
    const start = records[0];
    if (start?.kind !== 'start') throw new CommandFailure(`${file}: not a call's journal (no start record)`);
    if (start.flow !== flowId)
      throw new CommandFailure(`${file}: a call of flow "${start.flow}", not "${flowId}"`);
    turns.push(...callerTurns(records));
  }
  return turns;
}

async function turnsFromStore(
  flowId: string,
  since: number | null,
): Promise<{ turns: CallerTurn[]; calls: number }> {
  const store = await openStoreFromEnv().catch((err: unknown) => {
    throw new CommandFailure(isSwitchboardError(err) ? err.message : String(err));
  });
  try {
    return await flowTurns(store, flowId, since);
  } finally {
    await store.close();
  }
}

const said = (j: { intent: string | null; confidence: number }): string =>
  `${j.intent ?? 'none'} ${j.confidence.toFixed(2)}`;

function printChanged(changed: readonly ChangedTurn[]): void {
  for (const c of changed) {
    const mark = c.regression ? 'REGRESSION ' : c.fix ? 'fixed ' : '';
    const label = c.label === undefined ? '' : ` [label ${c.label}]`;
    const path = c.pathChanged
      ? `; path ${c.live.path} -> ${c.candidate.path}`
      : `; path unchanged (${c.live.path})`;
    console.log(`  ${mark}${c.state}: "${c.heard}"${label}: ${said(c.live)} -> ${said(c.candidate)}${path}`);
  }
}

function summary(e: Evaluation): string {
  const paths = e.changed.filter((c) => c.pathChanged).length;
  return (
    `${e.changed.length} understood differently (${paths} would go elsewhere); no-matches the candidate ` +
    `understands: ${e.noMatchesUnderstood}; turns it no longer understands: ${e.newNoMatches}`
  );
}

export async function main(args: string[]): Promise<number> {
  let values: { model?: string; since?: string; labels?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        model: { type: 'string' },
        since: { type: 'string' },
        labels: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`${NAME}: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const age = parseAge(values.since ?? '7d');
  const [flowArg, ...files] = positionals;
  if (flowArg === undefined || values.model === undefined || age === undefined) {
    const why =
      flowArg === undefined
        ? 'FLOW is required'
        : values.model === undefined
          ? '--model VERSION is required'
          : '--since takes 30m, 12h, 7d or all';
    console.error(`${NAME}: ${why}\n\n${HELP}`);
    return 2;
  }
  const loaded = await loadFlowArg(flowArg);
  if (!loaded.ok) {
    console.error(loaded.message.includes('\n') ? loaded.message : `${NAME}: ${loaded.message}`);
    return 1;
  }
  const flow = loaded.flow;
  const models: IntentClassifier[] = [];
  try {
    const folder = new ModelCache({ dir: modelsDir() }).folder(flow.id, values.model);
    if (
      !(await access(folder).then(
        () => true,
        () => false,
      ))
    )
      throw new CommandFailure(`no model version ${values.model} of ${flow.id} in ${modelsDir()}`);
    const live = await loadFlowModel(flow, loaded.path);
    models.push(live.model);
    const candidate = await IntentModel.load(folder);
    models.push(candidate);
    const compiled = compileFlow(flow);
    const liveJudge = judge(compiled, live.model);
    const candidateJudge = judge(compiled, candidate);
    console.log(`${NAME} ${flow.id}: candidate ${values.model} against live ${live.version}`);

    const from =
      files.length > 0
        ? { turns: await turnsFromFiles(files, flow.id), calls: files.length }
        : await turnsFromStore(flow.id, age === null ? null : Date.now() - age);
    const calls = await evaluate(from.turns, liveJudge, candidateJudge);
    console.log(`recorded calls: ${calls.turns} caller turns from ${from.calls} calls; ${summary(calls)}`);
    printChanged(calls.changed);
    let turnsJudged = calls.turns;
    let ms = calls.ms;

    let regressions = 0;
    if (values.labels !== undefined) {
      let text: string;
      try {
        text = await readFile(values.labels, 'utf8');
      } catch (err) {
        throw new CommandFailure(`cannot read ${values.labels}: ${(err as Error).message}`);
      }
      const review = parseReview(text, Object.keys(flowTrainingData(flow).intents));
      if (review.problems.length > 0) {
        for (const p of review.problems) console.error(`${values.labels}:${p.line}: ${p.message}`);
        throw new CommandFailure(`${review.problems.length} lines to fix in ${values.labels}`);
      }
      const labeled = review.labeled.map((l) => ({
        heard: l.heard,
        state: l.state ?? compiled.flow.start,
        label: l.label,
      }));
      const result = await evaluate(labeled, liveJudge, candidateJudge);
      const pct = (n: number): string =>
        result.labeled ? `${((100 * n) / result.labeled).toFixed(1)}%` : 'n/a';
      console.log(
        `labeled turns (${values.labels}): ${result.labeled}; live right ${result.liveRight} (${pct(result.liveRight)}), ` +
          `candidate right ${result.candidateRight} (${pct(result.candidateRight)}); fixed ${result.fixes}, ` +
          `regressions ${result.regressions} ("${OUT_OF_SCOPE_LABEL}" is right when no intent is given)`,
      );
      printChanged(result.changed);
      regressions = result.regressions;
      turnsJudged += result.turns;
      ms += result.ms;
    }
    console.log(
      `judged ${turnsJudged} turns with both models in ${Math.round(ms)} ms` +
        (ms > 0 ? ` (${Math.round((turnsJudged * 1000) / ms)} turns per second)` : ''),
    );
    if (regressions > 0)
      console.log(`${regressions} labeled turns regress: the candidate is worse where it matters`);
    return regressions > 0 ? 1 : 0;
  } catch (err) {
    console.error(`${NAME}: ${describeFailure(err)}`);
    return 1;
  } finally {
    for (const model of models) await model.release();
  }
}
