/**
 * The two instances of a phase behind the balancer: slot A on the host, slot B in the network namespace when
 * there is one, each reaching the store and the orders service at the address its side of the veth pair has,
 * each under libfaketime when its clock is to be stepped. A restart starts the slot's spec again as a new
 * writer (a new PGAPPNAME); the balancer follows every change.
 */
import type { ClockFile } from './clock-file.ts';
import type { HealthCheckedBalancer } from './health-balancer.ts';
import { Instance, type InstanceSpec, type ServerLogs, type Slot } from './instances.ts';
import type { Netns } from './netns.ts';

export interface PairOptions {
  /** Variables both instances get. */
  env: Record<string, string>;
  /** STORE_URL as the host reaches the store, and as the namespace does. */
  storeUrl: { host: string; namespaced: string };
  netns: Netns | null;
  /** Each slot's clock file, with libfaketime, when its clock is to be stepped. */
  clocks: { file: ClockFile; library: string }[] | null;
  logsDir: string | null;
  balancer: HealthCheckedBalancer;
  logs: ServerLogs;
}

export class InstancePair {
  /** Slots A and B; null while a slot is down (killed, not yet restarted). */
  readonly instances: (Instance | null)[] = [null, null];
  /** How long the first instance took to start (ms). */
  startupMs = 0;
  readonly #specs: InstanceSpec[];
  readonly #opts: PairOptions;
  #generation = 0;

  constructor(opts: PairOptions) {
    this.#opts = opts;
    this.#specs = (['A', 'B'] as Slot[]).map((slot, idx) => {
      const inNs = slot === 'B' && opts.netns !== null;
      return {
        slot,
        env: {
          ...opts.env,
          STORE_URL: inNs ? opts.storeUrl.namespaced : opts.storeUrl.host,
          ...(inNs && opts.netns ? { HOST: opts.netns.inside } : {}),
        },
        netns: inNs ? opts.netns : null,
        clock: opts.clocks?.[idx] ?? null,
        logsDir: opts.logsDir,
      };
    });
  }

  /** Start both, one after the other: the first start fills the caches the second reads. */
  async start(): Promise<void> {
    const began = performance.now();
    await this.restart(0);
    this.startupMs = performance.now() - began;
    await this.restart(1);
  }

  /** Start slot `idx` (again); resolves with how long it took (ms). */
  async restart(idx: number): Promise<number> {
    const began = performance.now();
    this.instances[idx] = await Instance.start(this.#specs[idx]!, ++this.#generation, this.#opts.logs);
    this.#opts.balancer.setInstances(this.instances);
    return performance.now() - began;
  }

  /** SIGTERM both, SIGKILL what is left after 10 s. */
  async stop(): Promise<void> {
    const live = this.instances.filter((i): i is Instance => i !== null);
    for (const i of live) i.kill('SIGTERM');
    await Promise.race([Promise.all(live.map((i) => i.closed)), sleep(10_000)]);
    for (const i of live) i.kill('SIGKILL');
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
