/**
 * The live set of flows a server offers, kept in step with the flows folder. An edited file is reloaded for new
 * calls without a restart; calls already running keep the compiled flow they started with (a session holds its
 * own reference), so every call runs one version from start to end. An edit that does not validate leaves the
 * last good version live and is reported.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SwitchboardError } from '../errors.ts';
import type { CompiledFlow, Finding } from '../flow/index.ts';
import type { SharedIntentModel } from '../nlu/shared-model.ts';
import type { Logger } from '../observability/logger.ts';
import type { FlowModels } from './flow-models.ts';
import { compileFlowText, duplicateFlowId, isFlowFileName, type RejectedFlow } from './flows.ts';

export interface FlowLibraryOptions {
  /** The flows folder. */
  dir: string;
  logger: Logger;
  /** Editors write a file in several steps; a file is reloaded once it has been quiet this long. Default 150 ms. */
  settleMs?: number;
  /**
   * Trains and loads each flow's intent model. A flow goes live together with its model: a call never gets a
   * new flow with the old flow's model. Without it flows match exact examples only.
   */
  models?: FlowModels;
  /**
   * How often, while watching, each flow's model is checked for a promotion or a rollback (`switchboard models`),
   * which new calls then get. Default 2000 ms; 0 turns the check off.
   */
  modelCheckMs?: number;
}

/** What one file last provided. */
interface FileState {
  /** SHA-256 of the text last read, so a save that changes nothing reloads nothing. */
  digest: string;
  /** The flow id the file provides, when its last good text was valid. */
  id: string | null;
  /**
   * SHA-256 of the live flow as parsed, so text that reads as the live flow (a refused edit undone, say, or
   * a change of layout only) changes nothing.
   */
  flowDigest: string | null;
  /** Findings of the last text read, when it was rejected. */
  findings: Finding[] | null;
}

export class FlowLibrary {
  readonly #dir: string;
  readonly #log: Logger;
  readonly #settleMs: number;
  readonly #models: FlowModels | null;
  readonly #flows = new Map<string, CompiledFlow>();
  readonly #intentModels = new Map<string, SharedIntentModel>();
  readonly #files = new Map<string, FileState>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #watcher: FSWatcher | null = null;
  readonly #modelCheckMs: number;
  #modelCheck: NodeJS.Timeout | null = null;
  /** Reloads run one at a time, in the order the changes were seen. */
  #chain: Promise<void> = Promise.resolve();

  constructor(options: FlowLibraryOptions) {
    this.#dir = options.dir;
    this.#log = options.logger;
    this.#settleMs = options.settleMs ?? 150;
    this.#models = options.models ?? null;
    this.#modelCheckMs = options.modelCheckMs ?? 2000;
  }

  /** Flows by id, live: a lookup made when a call starts gets the version current at that moment. */
  get flows(): ReadonlyMap<string, CompiledFlow> {
    return this.#flows;
  }

  /**
   * Intent models by flow id, live like {@link flows}; a flow without one (no trainer, or training failed) is
   * absent. A call that takes one must retain it for as long as it uses it.
   */
  get models(): ReadonlyMap<string, SharedIntentModel> {
    return this.#intentModels;
  }

  /** Files whose current text is refused, with why; a file listed here may still serve its last good version. */
  get rejected(): RejectedFlow[] {
    const out: RejectedFlow[] = [];
    for (const [file, state] of [...this.#files].sort(([a], [b]) => a.localeCompare(b))) {
      if (state.findings) out.push({ file, findings: state.findings });
    }
    return out;
  }

  /** Load every flow file in the folder. Throws CONFIG_INVALID when the folder cannot be read. */
  async load(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch (err) {
      throw new SwitchboardError(
        'CONFIG_INVALID',
        `cannot read the flows folder ${this.#dir}`,
        {},
        { cause: err },
      );
    }
    for (const file of names.filter(isFlowFileName).sort()) await this.#reload(file);
  }

  /** Start following changes to the folder. */
  watch(): void {
    if (this.#watcher) return;
    this.#watcher = watch(this.#dir, (_event, file) => {
      if (typeof file === 'string' && isFlowFileName(file)) this.#changed(file);
    });
    this.#watcher.on('error', (err) => {
      // The folder itself went away, say: keep serving what is loaded, and say so once.
      this.#log.error('flows folder no longer watched', { err, dir: this.#dir });
      this.#watcher?.close();
      this.#watcher = null;
    });
    if (this.#models && this.#modelCheckMs > 0) {
      this.#modelCheck = setInterval(() => void this.refreshModels(), this.#modelCheckMs);
      this.#modelCheck.unref();
    }
  }

  /**
   * Checks each flow's model against its promotion record, after the reloads already seen, and gives new calls
   * the one that should be live; calls under way keep theirs. Flows with their own model folder change with
   * their file only.
   */
  refreshModels(): Promise<void> {
    const models = this.#models;
    if (!models) return Promise.resolve();
    this.#chain = this.#chain
      .then(async () => {
        for (const [id, compiled] of this.#flows) {
          const current = this.#intentModels.get(id);
          if (current === undefined) continue;
          const model = await models.refresh(compiled.flow, current);
          if (model === current) continue;
          if (this.#flows.get(id) !== compiled) {
            model.retire(); // the flow was reloaded meanwhile, with its own model
            continue;
          }
          current.retire();
          this.#intentModels.set(id, model);
          this.#log.info('intent model changed for new calls', {
            flow: id,
            version: compiled.flow.version,
            modelVersion: model.version,
            previousModelVersion: current?.version ?? null,
          });
        }
      })
      .catch((err: unknown) => {
        // The chain also carries flow reloads: a failed check must not stop them.
        this.#log.error('intent model check failed; new calls keep their models', { err });
      });
    return this.#chain;
  }

  /**
   * Stop watching; resolves once a reload in progress has finished. The models are retired: each is released
   * once the calls holding it let go.
   */
  async close(): Promise<void> {
    this.#watcher?.close();
    this.#watcher = null;
    if (this.#modelCheck) clearInterval(this.#modelCheck);
    this.#modelCheck = null;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await this.#chain;
    for (const model of this.#intentModels.values()) model.retire();
    this.#intentModels.clear();
  }

  /** Resolves once every change seen so far has been applied (for tests and orderly shutdown). */
  async settled(): Promise<void> {
    while (this.#timers.size > 0) await new Promise((resolve) => setTimeout(resolve, this.#settleMs));
    await this.#chain;
  }

  #changed(file: string): void {
    clearTimeout(this.#timers.get(file));
    const timer = setTimeout(() => {
      this.#timers.delete(file);
      this.#chain = this.#chain.then(() => this.#reload(file));
    }, this.#settleMs);
    timer.unref();
    this.#timers.set(file, timer);
  }

  async #reload(file: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(join(this.#dir, file), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.#removed(file);
      else
        this.#refuse(file, null, [
          { severity: 'error', pointer: '', message: `cannot read the file: ${(err as Error).message}` },
        ]);
      return;
    }
    const digest = sha256(text);
    const before = this.#files.get(file);
    if (before?.digest === digest) return;

    const result = compileFlowText(text);
    if (!result.ok) {
      this.#refuse(file, digest, result.findings);
      return;
    }
    const compiled = result.compiled;
    const id = compiled.flow.id;
    const flowDigest = sha256(JSON.stringify(compiled.flow));
    // The live flow again (a refused edit undone, a new layout): nothing to reload, nothing to warn about.
    if (before?.id === id && before.flowDigest === flowDigest && this.#flows.has(id)) {
      this.#files.set(file, { digest, id, flowDigest, findings: null });
      if (before.findings) this.#log.info('flow file matches the live version again', { file, flow: id });
      return;
    }
    const owner = [...this.#files].find(([other, s]) => other !== file && s.id === id)?.[0];
    if (owner !== undefined) {
      this.#refuse(file, digest, [duplicateFlowId(owner, id)]);
      return;
    }
    const previousModel = this.#intentModels.get(id);
    const model = this.#models ? await this.#models.prepare(compiled.flow, previousModel, this.#dir) : null;
    // A file whose id changed stops offering the old one.
    if (before?.id && before.id !== id) this.#unpublish(before.id);
    const previous = this.#flows.get(id);
    this.#flows.set(id, compiled);
    if (model !== previousModel) {
      previousModel?.retire();
      if (model) this.#intentModels.set(id, model);
      else this.#intentModels.delete(id);
    }
    this.#files.set(file, { digest, id, flowDigest, findings: null });
    const fields = {
      file,
      flow: id,
      version: compiled.flow.version,
      modelVersion: model?.version ?? null,
      warnings: result.warnings.length,
    };
    if (!previous) {
      this.#log.info('flow loaded', fields);
      return;
    }
    this.#log.info('flow reloaded for new calls', { ...fields, previousVersion: previous.flow.version });
    if (previous.flow.version === compiled.flow.version) {
      // Calls are told apart by version in logs and journals; two different flows under one number blur that.
      this.#log.warn('flow changed without a new version number', {
        file,
        flow: id,
        version: compiled.flow.version,
      });
    }
  }

  #refuse(file: string, digest: string | null, findings: Finding[]): void {
    const before = this.#files.get(file);
    const liveId = before?.id ?? null;
    this.#files.set(file, {
      digest: digest ?? '',
      id: liveId,
      flowDigest: before?.flowDigest ?? null,
      findings,
    });
    const live = liveId === null ? undefined : this.#flows.get(liveId);
    if (live) {
      this.#log.error('flow edit refused; the last good version stays live', {
        code: 'FLOW_INVALID',
        file,
        flow: live.flow.id,
        liveVersion: live.flow.version,
        findings,
      });
    } else {
      this.#log.error('flow refused', { code: 'FLOW_INVALID', file, findings });
    }
  }

  #removed(file: string): void {
    const before = this.#files.get(file);
    if (!before) return;
    this.#files.delete(file);
    if (before.id !== null) {
      this.#unpublish(before.id);
      this.#log.info('flow removed for new calls', { file, flow: before.id });
    }
  }

  #unpublish(id: string): void {
    this.#flows.delete(id);
    this.#intentModels.get(id)?.retire();
    this.#intentModels.delete(id);
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
