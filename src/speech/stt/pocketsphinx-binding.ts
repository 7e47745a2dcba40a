/**
 * The slice of the pocketsphinx 5prealpha C API (Debian's libpocketsphinx3, "0.8+5prealpha") that the decoder
 * needs, declared through koffi. Every call is synchronous and may take milliseconds to seconds, so this module is
 * only loaded by the decoder processes (pocketsphinx.child.ts) and by the engine's start-up check.
 */
import koffi from 'koffi';
import { SwitchboardError } from '../../errors.ts';

/** The soname Debian installs; dlopen finds it on the standard library path. */
export const DEFAULT_LIBRARY = 'libpocketsphinx.so.3';
/** Debian's pocketsphinx-en-us: the acoustic model folder and its pronouncing dictionary. */
export const DEFAULT_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us/en-us';
export const DEFAULT_DICTIONARY = '/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict';
/** The generic en-us trigram model, used when a flow gives no vocabulary to build one from. */
export const DEFAULT_GENERIC_LM = '/usr/share/pocketsphinx/model/en-us/en-us.lm.bin';

export const INSTALL_HINT = 'apt-get install -y libpocketsphinx3 pocketsphinx-en-us';

/** An opaque C pointer as koffi hands it out. */
type Pointer = object;

export interface PocketsphinxLibrary {
  readonly path: string;
  ps_args(): Pointer;
  cmd_ln_parse_r(inout: null, defn: Pointer, argc: number, argv: string[], strict: number): Pointer | null;
  cmd_ln_free_r(config: Pointer): number;
  ps_init(config: Pointer): Pointer | null;
  ps_free(ps: Pointer): number;
  ps_set_jsgf_string(ps: Pointer, name: string, jsgf: string): number;
  ps_set_lm_file(ps: Pointer, name: string, path: string): number;
  ps_set_search(ps: Pointer, name: string): number;
  ps_unset_search(ps: Pointer, name: string): number;
  ps_start_stream(ps: Pointer): number;
  ps_start_utt(ps: Pointer): number;
  ps_process_raw(ps: Pointer, data: Int16Array, samples: number, noSearch: number, fullUtt: number): number;
  ps_end_utt(ps: Pointer): number;
  ps_get_hyp(ps: Pointer, score: [number]): string | null;
  ps_get_prob(ps: Pointer): number;
  ps_get_logmath(ps: Pointer): Pointer;
  logmath_exp(logmath: Pointer, logbP: number): number;
  ps_load_dict(ps: Pointer, dictfile: string, fdictfile: string | null, format: string | null): number;
  ps_seg_iter(ps: Pointer): Pointer | null;
  ps_seg_next(seg: Pointer): Pointer | null;
  ps_seg_word(seg: Pointer): string;
  ps_seg_frames(seg: Pointer, start: [number], end: [number]): void;
  err_set_logfp(fp: null): void;
}

const PROTOTYPES: Record<keyof Omit<PocketsphinxLibrary, 'path'>, string> = {
  ps_args: 'void *ps_args()',
  cmd_ln_parse_r:
    'void *cmd_ln_parse_r(void *inout, void *defn, int32_t argc, const char **argv, int32_t strict)',
  cmd_ln_free_r: 'int cmd_ln_free_r(void *config)',
  ps_init: 'void *ps_init(void *config)',
  ps_free: 'int ps_free(void *ps)',
  ps_set_jsgf_string: 'int ps_set_jsgf_string(void *ps, const char *name, const char *jsgf)',
  ps_set_lm_file: 'int ps_set_lm_file(void *ps, const char *name, const char *path)',
  ps_set_search: 'int ps_set_search(void *ps, const char *name)',
  ps_unset_search: 'int ps_unset_search(void *ps, const char *name)',
  ps_start_stream: 'int ps_start_stream(void *ps)',
  ps_start_utt: 'int ps_start_utt(void *ps)',
  ps_process_raw:
    'int ps_process_raw(void *ps, const int16_t *data, size_t n_samples, int no_search, int full_utt)',
  ps_end_utt: 'int ps_end_utt(void *ps)',
  ps_get_hyp: 'const char *ps_get_hyp(void *ps, _Out_ int32_t *out_best_score)',
  ps_get_prob: 'int32_t ps_get_prob(void *ps)',
  ps_get_logmath: 'void *ps_get_logmath(void *ps)',
  logmath_exp: 'double logmath_exp(void *lmath, int logb_p)',
  ps_load_dict: 'int ps_load_dict(void *ps, const char *dictfile, const char *fdictfile, const char *format)',
  ps_seg_iter: 'void *ps_seg_iter(void *ps)',
  ps_seg_next: 'void *ps_seg_next(void *seg)',
  ps_seg_word: 'const char *ps_seg_word(void *seg)',
  ps_seg_frames: 'void ps_seg_frames(void *seg, _Out_ int *out_sf, _Out_ int *out_ef)',
  err_set_logfp: 'void err_set_logfp(void *fp)',
};

/**
 * Loads the library and declares its functions; STT_UNAVAILABLE, with the install command, when it or a symbol
 * is missing. sphinxbase's symbols (cmd_ln, logmath, err) resolve through the library's own dependencies.
 */
export function loadPocketsphinx(path: string = DEFAULT_LIBRARY): PocketsphinxLibrary {
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load(path);
  } catch (err) {
    throw new SwitchboardError(
      'STT_UNAVAILABLE',
      `cannot load the pocketsphinx library ${path}; install it with: ${INSTALL_HINT}`,
      { library: path, error: err instanceof Error ? err.message : String(err) },
      { cause: err },
    );
  }
  const api: Record<string, unknown> = { path };
  for (const [name, prototype] of Object.entries(PROTOTYPES)) {
    try {
      api[name] = lib.func(prototype);
    } catch (err) {
      throw new SwitchboardError(
        'STT_UNAVAILABLE',
        `the library ${path} has no ${name}: not pocketsphinx 5prealpha (Debian's libpocketsphinx3)`,
        { library: path, symbol: name, error: err instanceof Error ? err.message : String(err) },
        { cause: err },
      );
    }
  }
  const ps = api as unknown as PocketsphinxLibrary;
  // pocketsphinx logs every model load and utterance to stderr; the engine reports failures itself.
  ps.err_set_logfp(null);
  return ps;
}
