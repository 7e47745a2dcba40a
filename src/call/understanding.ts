/**
 * Turns what a caller said into the `utterance` event a call's machine takes: the intent and the entity values
 * the flow can use at that moment (its own entities, the entity the current state collects, and yes/no for
 * read-backs). The intent is an exact example's when the caller said one, else the flow's trained model's, and
 * none (the flow's no-match) when the model is not confident enough. The machine never sees raw language
 * processing, so it stays deterministic and replayable from its journal. With a shadow (nlu/shadow.ts), the
 * model's turns are also put to the shadow once the utterance is returned, and the two answers compared.
 */
import { isSwitchboardError } from '../errors.ts';
import type { CallEvent, FlowFile } from '../flow/index.ts';
import { BUILTIN_ENTITY_NAMES } from '../flow/types.ts';
import { ExampleMatcher, extractBuiltin, extractCustom, type BuiltinEntity } from '../nlu/index.ts';
import type { IntentClassifier } from '../nlu/intent-classifier.ts';
import type { ShadowVerdict } from '../nlu/shadow.ts';
import type { Logger } from '../observability/logger.ts';

export type Utterance = Extract<CallEvent, { type: 'utterance' }>;

const BUILTINS: ReadonlySet<string> = new Set(BUILTIN_ENTITY_NAMES);

/** A candidate to compare the model with on each turn, and where each comparison goes. */
export interface ShadowOptions {
  model: IntentClassifier;
  version: string;
  report: (verdict: ShadowVerdict) => void;
}

type Answer = { intent: string | null; confidence: number };

export class Understanding {
  readonly #flow: FlowFile;
  readonly #matcher: ExampleMatcher;
  readonly #model: IntentClassifier | null;
  readonly #shadow: ShadowOptions | null;
  readonly #log: Logger;

  /** Without a model, only the flow's exact examples (and the built-in intents') are understood. */
  constructor(
    flow: FlowFile,
    options: { model?: IntentClassifier | null; shadow?: ShadowOptions | null; logger: Logger },
  ) {
    this.#flow = flow;
    this.#matcher = new ExampleMatcher(flow.intents ?? {});
    this.#model = options.model ?? null;
    this.#shadow = this.#model === null ? null : (options.shadow ?? null);
    this.#log = options.logger;
  }

  /**
   * The event for `text` said in `state` at `at`; `today` (YYYY-MM-DD, the call's local date) anchors relative
   * dates such as "tomorrow". Never rejects: a model that fails is logged and the utterance has no intent.
   */
  async interpret(text: string, state: string, at: number, today: string): Promise<Utterance> {
    const exact = this.#matcher.match(text);
    const match = exact ?? (await this.#classify(text));
    // Exact examples are the flow's, the same whichever model: only the model's answers are compared.
    if (exact === null && match !== null && this.#shadow !== null)
      this.#compare(this.#shadow, text, match, state, at);
    const entities: Record<string, string> = {};
    for (const [name, def] of Object.entries(this.#flow.entities ?? {})) {
      const value = extractCustom(def.values, text, { fuzzy: true });
      if (value !== null) entities[name] = value;
    }
    const wanted = new Set<BuiltinEntity>(['yes', 'no']);
    const collect = this.#flow.states[state]?.collect?.entity;
    if (collect !== undefined && BUILTINS.has(collect)) wanted.add(collect as BuiltinEntity);
    for (const entity of wanted) {
      const value = extractBuiltin(entity, text, { today });
      if (value !== null) entities[entity] = value;
    }
    return {
      type: 'utterance',
      at,
      text,
      intent: match?.intent ?? null,
      confidence: match?.confidence ?? 0,
      entities,
    };
  }

  /**
   * Asks the shadow once the turn has been handed on (the caller's answer never waits for it) and reports how
   * its answer compares with the live model's.
   */
  #compare(shadow: ShadowOptions, text: string, live: Answer, state: string, at: number): void {
    setImmediate(() => {
      const started = performance.now();
      const verdict = (answer: Answer | null, outcome: ShadowVerdict['outcome']): ShadowVerdict => ({
        version: shadow.version,
        at,
        state,
        live: { intent: live.intent, confidence: live.confidence },
        shadow: answer,
        outcome,
        ms: performance.now() - started,
      });
      shadow.model
        .classify(text)
        .then(
          (answer) => shadow.report(verdict(answer, answer.intent === live.intent ? 'agree' : 'disagree')),
          (err: unknown) =>
            shadow.report(verdict(null, isSwitchboardError(err, 'NLU_BUSY') ? 'busy' : 'failed')),
        )
        .catch((err: unknown) => this.#log.error('shadow verdict could not be reported', { err }));
    });
  }

  async #classify(text: string): Promise<Answer | null> {
    if (this.#model === null) return null;
    try {
      return await this.#model.classify(text);
    } catch (err) {
      this.#log.error('intent model failed; the utterance counts as not understood', {
        code: isSwitchboardError(err) ? err.code : 'NLU_INFERENCE_FAILED',
        err,
      });
      return null;
    }
  }
}

/** The local calendar date of `at` (ms since the epoch) as YYYY-MM-DD, in this process's time zone. */
export function localDate(at: number): string {
  const d = new Date(at);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
