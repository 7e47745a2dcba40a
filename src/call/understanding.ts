/**
 * Turns what a caller said into the `utterance` event a call's machine takes: the intent and the entity values
 * the flow can use at that moment (its own entities, the entity the current state collects, and yes/no for
 * read-backs). The intent is an exact example's when the caller said one, else the flow's trained model's, and
 * none (the flow's no-match) when the model is not confident enough. The machine never sees raw language
 * processing, so it stays deterministic and replayable from its journal.
 */
import { isSwitchboardError } from '../errors.ts';
import type { CallEvent, FlowFile } from '../flow/index.ts';
import { BUILTIN_ENTITY_NAMES } from '../flow/types.ts';
import { ExampleMatcher, extractBuiltin, extractCustom, type BuiltinEntity } from '../nlu/index.ts';
import type { IntentClassifier } from '../nlu/intent-classifier.ts';
import type { Logger } from '../observability/logger.ts';

export type Utterance = Extract<CallEvent, { type: 'utterance' }>;

const BUILTINS: ReadonlySet<string> = new Set(BUILTIN_ENTITY_NAMES);

export class Understanding {
  readonly #flow: FlowFile;
  readonly #matcher: ExampleMatcher;
  readonly #model: IntentClassifier | null;
  readonly #log: Logger;

  /** Without a model, only the flow's exact examples (and the built-in intents') are understood. */
  constructor(flow: FlowFile, options: { model?: IntentClassifier | null; logger: Logger }) {
    this.#flow = flow;
    this.#matcher = new ExampleMatcher(flow.intents ?? {});
    this.#model = options.model ?? null;
    this.#log = options.logger;
  }

  /**
   * The event for `text` said in `state` at `at`; `today` (YYYY-MM-DD, the call's local date) anchors relative
   * dates such as "tomorrow". Never rejects: a model that fails is logged and the utterance has no intent.
   */
  async interpret(text: string, state: string, at: number, today: string): Promise<Utterance> {
    const match = this.#matcher.match(text) ?? (await this.#classify(text));
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

  async #classify(text: string): Promise<{ intent: string | null; confidence: number } | null> {
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
