/**
 * Which prompts may be kept on disk (the prompt cache's folder): words the flows themselves hold, never words
 * made from a caller's data. A read-back ("You entered 5, 5, 5, 1, 2, 3, 4.") on disk would give the caller's
 * number away twice: in its file name, a hash of the words that anyone can try candidates against, and in its
 * audio. So only the sentences of the flows' spoken templates that have no placeholder (and such templates
 * whole) are shareable; everything else is synthesized into memory only.
 */
import { spokenTemplates, templateSlots, type CompiledFlow, type FlowFile } from '../flow/index.ts';
import { splitSentences } from '../speech/tts/sentences.ts';

/** A prompt text's test against the flows loaded now (`flows` is read at each test: reloads count). */
export function shareablePrompts(flows: { values(): Iterable<CompiledFlow> }): (text: string) => boolean {
  const byFlow = new WeakMap<FlowFile, ReadonlySet<string>>();
  const fixed = (flow: FlowFile): ReadonlySet<string> => {
    let texts = byFlow.get(flow);
    if (texts === undefined) {
      texts = fixedTexts(flow);
      byFlow.set(flow, texts);
    }
    return texts;
  };
  return (text) => {
    for (const { flow } of flows.values()) if (fixed(flow).has(text)) return true;
    return false;
  };
}

/** The texts of `flow` that no call's data can change: placeholder-free templates and sentences. */
export function fixedTexts(flow: FlowFile): ReadonlySet<string> {
  const texts = new Set<string>();
  const fixed = (text: string): boolean => templateSlots(text).length === 0;
  for (const template of spokenTemplates(flow)) {
    if (fixed(template)) texts.add(template);
    for (const sentence of splitSentences(template)) if (fixed(sentence)) texts.add(sentence);
  }
  return texts;
}
