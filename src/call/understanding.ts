/**
 * Turns what a caller said into the `utterance` event a call's machine takes: the intent (by the flow's examples
 * and the built-in intents) and the entity values the flow can use at that moment (its own entities, the entity
 * the current state collects, and yes/no for read-backs). The machine never sees raw language processing, so it
 * stays deterministic and replayable from its journal.
 */
import type { CallEvent, FlowFile } from '../flow/index.ts';
import { BUILTIN_ENTITY_NAMES } from '../flow/types.ts';
import { ExampleMatcher, extractBuiltin, extractCustom, type BuiltinEntity } from '../nlu/index.ts';

export type Utterance = Extract<CallEvent, { type: 'utterance' }>;

const BUILTINS: ReadonlySet<string> = new Set(BUILTIN_ENTITY_NAMES);

export class Understanding {
  readonly #flow: FlowFile;
  readonly #matcher: ExampleMatcher;

  constructor(flow: FlowFile) {
    this.#flow = flow;
    this.#matcher = new ExampleMatcher(flow.intents ?? {});
  }

  /**
   * The event for `text` said in `state` at `at`; `today` (YYYY-MM-DD, the call's local date) anchors relative
   * dates such as "tomorrow".
   */
  interpret(text: string, state: string, at: number, today: string): Utterance {
    const match = this.#matcher.match(text);
    const entities: Record<string, string> = {};
    for (const [name, def] of Object.entries(this.#flow.entities ?? {})) {
      const value = extractCustom(def.values, text);
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
}

/** The local calendar date of `at` (ms since the epoch) as YYYY-MM-DD, in this process's time zone. */
export function localDate(at: number): string {
  const d = new Date(at);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
