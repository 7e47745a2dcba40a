/**
 * What a speech engine registers (registry.ts lists them): its name, how to open it from the server's
 * configuration, what it needs installed, and the embedded engine a cloud one fails over to. Opening an engine
 * is the whole start-up (a warm-up included), so the server and the failover open every engine the same way.
 */
import type { Clock } from '../clock.ts';
import type { ServerConfig } from '../config/env.ts';
import type { ErrorCode } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { SttEngineName, TtsEngineName } from './engine-names.ts';
import type { SttEngine } from './stt/engine.ts';
import type { TtsEngine } from './tts/engine.ts';
import type { VadOpener } from './vad/opener.ts';

/** The configuration the engines read (the variables of src/config/env.ts, with their defaults applied there). */
export type SpeechConfig = Pick<
  ServerConfig,
  | 'tts'
  | 'stt'
  | 'ttsVoice'
  | 'pocketsphinxLibrary'
  | 'googleEndpoint'
  | 'googleSttApi'
  | 'googleCloudProject'
  | 'googleSttLocation'
  | 'googleSttModel'
>;

/** What opening an engine is given. */
export interface EngineSetup {
  config: SpeechConfig;
  logger: Logger;
  clock?: Clock;
  /**
   * `primary`: the engine the configuration chose; `fallback`: loaded to take over from a failing cloud engine,
   * so it uses its own defaults where the configuration names the primary's (a Google voice, say).
   */
  role: 'primary' | 'fallback';
}

interface Entry<Name extends string> {
  /** What the configuration calls it: one of the names engine-names.ts lists for its kind. */
  readonly name: Name;
  /** Runs on this machine (true), or is a service reached over the network. */
  readonly embedded: boolean;
  /** The embedded engine of the same kind calls fail over to when this one keeps failing; null for none. */
  readonly fallback: Name | null;
  /** What must be installed besides the npm packages, as said to the user; null for nothing. */
  readonly requires: string | null;
  /** How `serve --help` lists it among the choices of its variable. */
  readonly help: string;
}

export interface TtsEntry extends Entry<TtsEngineName> {
  /** A started and warmed-up voice; closing it is the engine's close(). */
  open(setup: EngineSetup): Promise<TtsEngine>;
}

export interface SttEntry extends Entry<SttEngineName> {
  /**
   * The started engine, or null when recognition is off. Rejects with `unavailable` (its message saying what to
   * install) when the engine cannot run here: calls then take keys only. `voice` speaks any warm-up audio.
   */
  open(setup: EngineSetup & { voice: TtsEngine }): Promise<SttEngine | null>;
  /** For the banner when open() gives null. */
  readonly offSummary?: string;
  readonly unavailable: ErrorCode;
}

/** A loaded voice activity detector, shared by every call. */
export interface OpenedVad {
  readonly open: VadOpener;
  /** For the banner: what it is. */
  readonly summary: string;
  /** Audio it dropped because it fell behind, since it started (chunks of its own size). */
  dropped(): number;
  close(): Promise<void>;
}

export interface VadEntry {
  readonly name: string;
  /** How the banner and the log name it: 'Silero', 'energy'. */
  readonly label: string;
  /** Rejects with `unavailable` when it cannot load here: the next VAD of the table is used instead. */
  open(setup: EngineSetup): Promise<OpenedVad>;
  readonly unavailable: ErrorCode | null;
}
