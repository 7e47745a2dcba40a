/**
 * One pocketsphinx decoder: the acoustic model and dictionary loaded once, searches added as streams need them,
 * one utterance at a time. Synchronous and CPU-heavy: only a decoder process (pocketsphinx.child.ts) runs it.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SwitchboardError } from '../../errors.ts';
import type { PocketsphinxLibrary } from './pocketsphinx-binding.ts';
import { INSTALL_HINT, loadPocketsphinx } from './pocketsphinx-binding.ts';
import type { Pronunciations } from './dictionary.ts';
import type { SearchSpec } from './search.ts';
import { searchSource } from './search.ts';

export interface DecoderFiles {
  /** Path or soname of libpocketsphinx. */
  library: string;
  /** Acoustic model folder (holds mdef, means, ...). */
  modelDir: string;
  /** Pronouncing dictionary. */
  dictionary: string;
  /** Generic language model, for open questions with no domain. */
  genericLm: string;
}

/** What one utterance produced; frames are 10 ms of audio from the start of the utterance. */
export interface DecodedUtterance {
  text: string;
  /** Posterior probability of the hypothesis; null for grammars, where pocketsphinx reports none. */
  confidence: number | null;
  /** First and last frame of the words heard; both null when no word was. */
  startFrame: number | null;
  endFrame: number | null;
}

/** Searches a decoder keeps; past this the least recently used one is removed. */
const MAX_SEARCHES = 32;
/** Frame shift of the en-us model's front end (100 frames a second). */
export const FEATURE_FRAME_MS = 10;

/** Throws STT_UNAVAILABLE, naming the missing file and the install command, unless the model files exist. */
export function checkModelFiles(files: Omit<DecoderFiles, 'library' | 'genericLm'>): void {
  for (const path of [join(files.modelDir, 'mdef'), files.dictionary]) {
    if (!existsSync(path)) {
      throw new SwitchboardError(
        'STT_UNAVAILABLE',
        `pocketsphinx model file ${path} is missing; install it with: ${INSTALL_HINT}`,
        { path },
      );
    }
  }
}

export class Decoder {
  readonly #ps: PocketsphinxLibrary;
  readonly #decoder: object;
  readonly #config: object;
  readonly #genericLm: string;
  readonly #dictionary: Pronunciations;
  /** Words (and alternatives) in the decoder's own dictionary; null when it was given the whole dictionary. */
  readonly #loaded: Set<string> | null;
  /** Search keys in least- to most-recently used order, with whether each is a grammar. */
  readonly #searches = new Map<string, { grammar: boolean }>();
  #current: { grammar: boolean } | undefined;

  private constructor(
    ps: PocketsphinxLibrary,
    decoder: object,
    config: object,
    genericLm: string,
    dictionary: Pronunciations,
    loaded: Set<string> | null,
  ) {
    this.#ps = ps;
    this.#decoder = decoder;
    this.#config = config;
    this.#genericLm = genericLm;
    this.#dictionary = dictionary;
    this.#loaded = loaded;
  }

  /**
   * Loads the library and the model; STT_UNAVAILABLE when either is missing or pocketsphinx refuses them.
   * `whole`: load the whole dictionary (for the generic model, whose vocabulary it is) rather than starting
   * with `initialWords` and adding the words of each search as it is prepared.
   */
  static create(
    files: DecoderFiles,
    dictionary: Pronunciations,
    options: { whole: boolean; initialWords: readonly string[] },
  ): Decoder {
    checkModelFiles(files);
    const ps = loadPocketsphinx(files.library);
    let dictPath = files.dictionary;
    let tmp: string | undefined;
    const loaded = options.whole ? null : new Set(options.initialWords.filter((w) => dictionary.has(w)));
    if (loaded) {
      tmp = mkdtempSync(join(tmpdir(), 'switchboard-dict-'));
      dictPath = join(tmp, 'initial.dict');
      writeFileSync(dictPath, dictionary.lines(loaded));
    }
    // Live cepstral mean normalization: the model's feat.params asks for batch, which only works on whole
    // utterances; live keeps a running mean across utterances, hence the warm-up of a new decoder.
    const args = ['-hmm', files.modelDir, '-dict', dictPath, '-cmn', 'live'];
    let config: object | null = null;
    let decoder: object | null = null;
    try {
      config = ps.cmd_ln_parse_r(null, ps.ps_args(), args.length, args, 1);
      decoder = config ? ps.ps_init(config) : null;
    } finally {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    }
    if (!config || !decoder) {
      if (config) ps.cmd_ln_free_r(config);
      throw new SwitchboardError(
        'STT_UNAVAILABLE',
        'pocketsphinx could not load its acoustic model or dictionary',
        { modelDir: files.modelDir, dictionary: files.dictionary },
      );
    }
    return new Decoder(ps, decoder, config, files.genericLm, dictionary, loaded);
  }

  /** Whether the dictionary has `word`. */
  known(word: string): boolean {
    return this.#dictionary.has(word);
  }

  /**
   * Makes `spec`'s search available, building it the first time; STT_FAILED when pocketsphinx rejects it.
   * Only between utterances: building a search may reload the dictionary, which rebuilds every search.
   */
  prepare(spec: SearchSpec): void {
    if (this.#current !== undefined) {
      throw new SwitchboardError('STT_FAILED', 'a search cannot be prepared during an utterance', {
        search: spec.key,
      });
    }
    const have = this.#searches.get(spec.key);
    if (have) {
      // Most recently used goes last.
      this.#searches.delete(spec.key);
      this.#searches.set(spec.key, have);
      return;
    }
    const source = searchSource(spec, (w) => this.known(w));
    if (source.type === 'generic' && this.#loaded) {
      throw new SwitchboardError(
        'STT_FAILED',
        'the generic model needs a decoder with the whole dictionary',
        {
          search: spec.key,
        },
      );
    }
    if (source.type !== 'generic') this.#addWords(source.words);
    let rc: number;
    if (source.type === 'jsgf') {
      rc = this.#ps.ps_set_jsgf_string(this.#decoder, spec.key, source.text);
    } else if (source.type === 'arpa') {
      // pocketsphinx reads language models from files only.
      const dir = mkdtempSync(join(tmpdir(), 'switchboard-lm-'));
      try {
        const path = join(dir, 'domain.arpa');
        writeFileSync(path, source.text);
        rc = this.#ps.ps_set_lm_file(this.#decoder, spec.key, path);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } else {
      rc = this.#ps.ps_set_lm_file(this.#decoder, spec.key, this.#genericLm);
    }
    if (rc !== 0) {
      throw new SwitchboardError('STT_FAILED', `pocketsphinx rejected the ${source.type} search`, {
        search: spec.key,
      });
    }
    this.#searches.set(spec.key, { grammar: source.type === 'jsgf' });
    this.#evict(spec.key);
  }

  /** Starts an utterance with a search prepare() made. */
  start(key: string): void {
    const search = this.#searches.get(key);
    if (!search) throw new SwitchboardError('STT_FAILED', 'search was not prepared', { search: key });
    if (this.#ps.ps_set_search(this.#decoder, key) !== 0 || this.#ps.ps_start_stream(this.#decoder) !== 0) {
      throw new SwitchboardError('STT_FAILED', 'pocketsphinx could not select the search', { search: key });
    }
    if (this.#ps.ps_start_utt(this.#decoder) !== 0) {
      throw new SwitchboardError('STT_FAILED', 'pocketsphinx could not start an utterance');
    }
    this.#current = search;
  }

  /** Decodes 16 kHz audio of the current utterance. */
  process(pcm: Int16Array): void {
    if (pcm.length === 0) return;
    if (this.#ps.ps_process_raw(this.#decoder, pcm, pcm.length, 0, 0) < 0) {
      throw new SwitchboardError('STT_FAILED', 'pocketsphinx could not decode audio');
    }
  }

  /** Ends the current utterance and returns what was heard. */
  finish(): DecodedUtterance {
    const search = this.#current;
    this.#current = undefined;
    if (this.#ps.ps_end_utt(this.#decoder) < 0) {
      throw new SwitchboardError('STT_FAILED', 'pocketsphinx could not end the utterance');
    }
    const score: [number] = [0];
    const text = (this.#ps.ps_get_hyp(this.#decoder, score) ?? '').trim();
    if (text === '') return { text: '', confidence: null, startFrame: null, endFrame: null };
    let confidence: number | null = null;
    if (search && !search.grammar) {
      const p = this.#ps.logmath_exp(
        this.#ps.ps_get_logmath(this.#decoder),
        this.#ps.ps_get_prob(this.#decoder),
      );
      confidence = Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : null;
    }
    let startFrame: number | null = null;
    let endFrame: number | null = null;
    for (let seg = this.#ps.ps_seg_iter(this.#decoder); seg; seg = this.#ps.ps_seg_next(seg)) {
      const word = this.#ps.ps_seg_word(seg);
      // Fillers (<s>, </s>, <sil>, [NOISE]) are not words the caller said.
      if (word.startsWith('<') || word.startsWith('[')) continue;
      const sf: [number] = [0];
      const ef: [number] = [0];
      this.#ps.ps_seg_frames(seg, sf, ef);
      startFrame ??= sf[0];
      endFrame = ef[0];
    }
    return { text, confidence, startFrame, endFrame };
  }

  /** Ends the current utterance, if any, without looking at it. */
  abort(): void {
    if (this.#current === undefined) return;
    this.#current = undefined;
    this.#ps.ps_end_utt(this.#decoder);
  }

  free(): void {
    this.#ps.ps_free(this.#decoder);
    this.#ps.cmd_ln_free_r(this.#config);
  }

  /**
   * Reloads the dictionary with the words it does not have yet. ps_load_dict rebuilds the phone-context tables
   * and every search in one go; ps_add_word does so only for the last word of a batch, leaving the others'
   * contexts unbuilt, which crashed the decoder (SIGSEGV) in searches built before.
   */
  #addWords(words: readonly string[]): void {
    const loaded = this.#loaded;
    if (!loaded) return;
    const missing = words.filter((w) => !loaded.has(w));
    if (missing.length === 0) return;
    const next = new Set([...loaded, ...missing]);
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-dict-'));
    let rc: number;
    try {
      const path = join(dir, 'words.dict');
      writeFileSync(path, this.#dictionary.lines(next));
      rc = this.#ps.ps_load_dict(this.#decoder, path, null, null);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    if (rc < 0) {
      throw new SwitchboardError('STT_FAILED', 'pocketsphinx could not reload its dictionary', {
        words: missing.length,
      });
    }
    for (const word of missing) loaded.add(word);
  }

  #evict(keep: string): void {
    for (const key of this.#searches.keys()) {
      if (this.#searches.size <= MAX_SEARCHES) return;
      if (key === keep) continue;
      this.#ps.ps_unset_search(this.#decoder, key);
      this.#searches.delete(key);
    }
  }
}
