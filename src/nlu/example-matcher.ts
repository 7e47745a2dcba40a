import { BUILTIN_INTENTS } from './builtin-intents.ts';
import { normalizeUtterance } from './normalize.ts';

/** Intents by name, each with the utterances that teach it (the `intents` of a flow). */
export interface IntentExamples {
  [intent: string]: { examples: readonly string[] };
}

/** The intent an utterance was matched to; confidence is 1 for an exact example match. */
export interface IntentMatch {
  intent: string;
  confidence: number;
}

/**
 * Matches an utterance to the intent whose example it equals after normalization: the fallback until a
 * trained model exists, and the way exact examples keep working once one does.
 *
 * The flow's intents come first, in their declared order, then the built-ins it does not redefine. An
 * example listed under two intents goes to the first of them (the flow validator reports that as an error).
 */
export class ExampleMatcher {
  readonly intents: readonly string[];
  private readonly byExample = new Map<string, string>();

  constructor(intents: IntentExamples, options: { builtins?: boolean } = {}) {
    const all: [string, readonly string[]][] = Object.entries(intents).map(([name, def]) => [
      name,
      def.examples,
    ]);
    if (options.builtins ?? true) {
      for (const [name, examples] of Object.entries(BUILTIN_INTENTS)) {
        if (!Object.hasOwn(intents, name)) all.push([name, examples]);
      }
    }
    for (const [name, examples] of all) {
      for (const example of examples) {
        const key = normalizeUtterance(example);
        if (key !== '' && !this.byExample.has(key)) this.byExample.set(key, name);
      }
    }
    this.intents = all.map(([name]) => name);
  }

  /** The intent whose example equals the utterance after normalization, or null. */
  match(text: string): IntentMatch | null {
    const intent = this.byExample.get(normalizeUtterance(text));
    return intent === undefined ? null : { intent, confidence: 1 };
  }
}
