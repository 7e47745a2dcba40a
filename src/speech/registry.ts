/**
 * Every speech engine the server can use, by kind. Adding one is a registration module in engines/ (see
 * engine-entry.ts for what it says), a line in its table here, and its name in engine-names.ts, which the
 * configuration checks TTS and STT against; this module refuses to load when the two disagree. The server, the
 * failover and the banner read these tables; none of them knows an engine by name.
 */
import type { SttEntry, TtsEntry, VadEntry } from './engine-entry.ts';
import { engineChoices, STT_ENGINE_NAMES, TTS_ENGINE_NAMES } from './engine-names.ts';
import { energy } from './engines/energy.ts';
import { flite } from './engines/flite.ts';
import { googleStt } from './engines/google-stt.ts';
import { googleTts } from './engines/google-tts.ts';
import { pocketsphinx } from './engines/pocketsphinx.ts';
import { silero } from './engines/silero.ts';
import { sttOff } from './engines/stt-off.ts';
import { SwitchboardError } from '../errors.ts';

/** Voices (TTS); the first embedded one also speaks warm-up audio when the chosen voice is a cloud one. */
export const TTS_ENGINES: readonly TtsEntry[] = [flite, googleTts];

/** Recognizers (STT). */
export const STT_ENGINES: readonly SttEntry[] = [pocketsphinx, googleStt, sttOff];

/** Voice activity detectors, best first: each is tried until one loads. */
export const VAD_ENGINES: readonly VadEntry[] = [silero, energy];

registersExactly('TTS', TTS_ENGINES, TTS_ENGINE_NAMES);
registersExactly('STT', STT_ENGINES, STT_ENGINE_NAMES);

/** A table out of step with the names the configuration accepts would fail only once that engine is chosen. */
function registersExactly(kind: string, table: readonly { name: string }[], names: readonly string[]): void {
  const registered = table.map((e) => e.name);
  const same =
    registered.length === names.length && names.every((n) => registered.filter((r) => r === n).length === 1);
  if (!same) {
    throw new SwitchboardError(
      'CONFIG_INVALID',
      `the ${kind} engines registered (${registered.join(', ')}) are not those engine-names.ts lists ` +
        `(${names.join(', ')})`,
    );
  }
}

export function ttsEngine(name: string): TtsEntry {
  return find(TTS_ENGINES, name, 'TTS');
}

export function sttEngine(name: string): SttEntry {
  return find(STT_ENGINES, name, 'STT');
}

/** The embedded engines calls fail over to when the chosen ones are cloud engines that keep failing. */
export interface Fallbacks {
  /** The voice that takes over, or null when the chosen one needs none. */
  voice: TtsEntry | null;
  /** The recognizer that takes over, or null. */
  hearing: SttEntry | null;
  /** Speaks the recognizer's warm-up audio: the fallback voice, else the first embedded one. */
  warmUpVoice: TtsEntry;
}

export function fallbacksFor(primary: { tts: string; stt: string }): Fallbacks {
  const voice = fallbackOf(TTS_ENGINES, ttsEngine(primary.tts));
  const hearing = fallbackOf(STT_ENGINES, sttEngine(primary.stt));
  const embedded = TTS_ENGINES.find((e) => e.embedded);
  if (!embedded) throw new SwitchboardError('CONFIG_INVALID', 'no embedded TTS engine is registered');
  return { voice, hearing, warmUpVoice: voice ?? embedded };
}

function fallbackOf<E extends { fallback: string | null; name: string }>(
  table: readonly E[],
  entry: E,
): E | null {
  return entry.fallback === null ? null : find(table, entry.fallback, 'fallback');
}

function find<E extends { name: string }>(table: readonly E[], name: string, kind: string): E {
  const entry = table.find((e) => e.name === name);
  if (!entry) {
    throw new SwitchboardError(
      'CONFIG_INVALID',
      `${kind}=${name} is not an available engine (${engineChoices(table.map((e) => e.name))})`,
    );
  }
  return entry;
}
