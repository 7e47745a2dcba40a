/**
 * What the app needs from the other processes of its server (WORKERS > 1): its own worker number, live views
 * shared by every worker, and `/metrics` for the whole server whichever worker is scraped.
 */
import type { CallViews } from '../../call/call-view.ts';
import { mergeExpositions } from './merged-metrics.ts';
import type { Readiness } from '../admission.ts';
import { METRICS_TOPIC, READINESS_TOPIC, STREAM_STARTED_TOPIC } from './messages.ts';
import { SharedCallViews } from './shared-views.ts';
import type { WorkerLink } from './worker-link.ts';

/** `/readyz` of a server of several workers. */
export interface ServerReadiness {
  status: 'ready' | 'busy' | 'draining';
  /** Calls of every worker (live, or admitted and not yet streaming). */
  calls: number;
  workers: ({ worker: number } & Readiness)[];
}

export class ClusterPeers {
  readonly #link: WorkerLink;

  constructor(link: WorkerLink) {
    this.#link = link;
  }

  /** This worker's slot (1..WORKERS), also sent as the `X-Switchboard-Worker` header. */
  get worker(): number {
    return this.#link.slot;
  }

  /** Live views opened and published in every worker. */
  views(): CallViews {
    return new SharedCallViews(this.#link);
  }

  /**
   * Streams started here are told to the other workers, and theirs to `started`: the worker that admitted a call
   * at the webhook stops counting it as pending once its stream runs on another.
   */
  shareStreamStarts(started: (callId: string) => void): void {
    this.#link.listen(STREAM_STARTED_TOPIC, (callId) => {
      if (typeof callId === 'string') started(callId);
    });
  }

  /** A stream started in this worker. */
  streamStarted(callId: string): void {
    this.#link.broadcast(STREAM_STARTED_TOPIC, callId);
  }

  /** Answer the other workers' `/metrics` with this worker's exposition. */
  exposeMetrics(render: () => string): void {
    this.#link.answer(METRICS_TOPIC, () => render());
  }

  /** Answer the other workers' `/readyz` with this worker's readiness. */
  exposeReadiness(readiness: () => Readiness): void {
    this.#link.answer(READINESS_TOPIC, () => readiness());
  }

  /**
   * The server's readiness: ready while any worker takes new calls (the kernel spreads calls over them all, so a
   * proxy should keep sending), busy when none does, draining when all drain; each worker's own under `workers`.
   */
  async readiness(): Promise<ServerReadiness> {
    const { answers } = await this.#link.gather(READINESS_TOPIC);
    const workers = answers
      .map((a) => ({ worker: Number(a.worker), ...(a.data as Readiness) }))
      .sort((a, b) => a.worker - b.worker);
    const status = workers.some((w) => w.status === 'ready')
      ? 'ready'
      : workers.length > 0 && workers.every((w) => w.status === 'draining')
        ? 'draining'
        : 'busy';
    const calls = workers.reduce((sum, w) => sum + ('calls' in w ? w.calls : 0), 0);
    return { status, calls, workers };
  }

  /** Every process's exposition, each sample labelled with its process; workers that did not answer are named. */
  async metrics(): Promise<string> {
    const { answers, missing } = await this.#link.gather(METRICS_TOPIC);
    const merged = mergeExpositions(answers.map((a) => ({ worker: a.worker, text: String(a.data) })));
    return missing.length === 0 ? merged : `# no answer from worker ${missing.join(', ')}\n${merged}`;
  }
}
