/**
 * The names the TTS and STT variables accept, one list per kind and nothing else, so the configuration
 * (src/config/env.ts) can refuse an unknown engine at start-up without loading any engine, and without importing
 * the registry, whose engine entries read the configuration's types. The registry (registry.ts) checks at load
 * that its tables register exactly these names: adding an engine is a name here and its entry there.
 */

/** Voices, in the order errors list them. */
export const TTS_ENGINE_NAMES = ['flite', 'google'] as const;

/** Recognizers, likewise; `off` takes keys only. */
export const STT_ENGINE_NAMES = ['pocketsphinx', 'google', 'off'] as const;

export type TtsEngineName = (typeof TTS_ENGINE_NAMES)[number];
export type SttEngineName = (typeof STT_ENGINE_NAMES)[number];

/** How errors list the accepted names: `pocketsphinx, google or off`. */
export function engineChoices(names: readonly string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)!}`;
}
