/**
 * The reverse proxy in front of the instances, as deployments run one: the TCP balancer, plus health checks of
 * each instance's `GET /readyz` every half second (one second timeout). Two failures in a row mark an instance
 * down: it gets no new connections and, if it is still down a second later while another instance is up to
 * take them, its media streams are cut (as HAProxy's `on-marked-down shutdown-sessions` does, but leaving web
 * requests in flight to finish), so its callers' streams end and Twilio follows the `<Connect action>` to an
 * instance that is up. Two passes mark it up again.
 * With every instance down (a database outage makes them all unready within a check or two of each other)
 * requests go to all of them rather than to none, as Envoy's panic threshold does, and nothing is cut.
 */
import { request } from 'node:http';
import { TcpBalancer } from '../../test/support/balancer.ts';
import type { Instance } from './instances.ts';

const INTERVAL_MS = 500;
const TIMEOUT_MS = 1000;
const FALL = 2;
const RISE = 2;
/**
 * How long a server stays down before its sessions are cut: two more check rounds, so an outage every server
 * sees (they go down within a round of each other) cuts nothing.
 */
const CUT_AFTER_MS = 1000;

interface Member {
  instance: Instance;
  up: boolean;
  fails: number;
  passes: number;
  checking: boolean;
}

/** A health transition, for the run's log. */
export interface HealthEvent {
  at: number;
  writer: string;
  up: boolean;
  /** Connections cut when marked down. */
  dropped: number;
}

export class HealthCheckedBalancer {
  readonly #balancer = new TcpBalancer([]);
  #members: Member[] = [];
  readonly #timer: NodeJS.Timeout;
  readonly events: HealthEvent[] = [];

  constructor() {
    this.#timer = setInterval(() => this.#tick(), INTERVAL_MS);
    this.#timer.unref();
  }

  /** Resolves with the balancer's URL. */
  async listen(): Promise<string> {
    return `http://127.0.0.1:${await this.#balancer.listen()}`;
  }

  /**
   * The instances to balance over (null for a slot that is down): a new one counts as up (it has just started
   * listening), one no longer listed is dropped at once, as a balancer that saw its process die.
   */
  setInstances(instances: readonly (Instance | null)[]): void {
    const listed = instances.filter((i): i is Instance => i !== null);
    this.#members = listed.map(
      (instance) =>
        this.#members.find((m) => m.instance === instance) ?? {
          instance,
          up: true,
          fails: 0,
          passes: 0,
          checking: false,
        },
    );
    this.#apply();
  }

  /** Whether `instance` is in rotation now. */
  isUp(instance: Instance): boolean {
    return this.#members.some((m) => m.instance === instance && m.up);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#balancer.close();
  }

  #apply(): void {
    const up = this.#members.filter((m) => m.up);
    const targets = up.length > 0 ? up : this.#members;
    this.#balancer.setTargets(targets.map((m) => ({ host: m.instance.host, port: m.instance.port })));
  }

  #tick(): void {
    for (const member of this.#members) {
      if (member.checking) continue;
      member.checking = true;
      void ready(member.instance).then((ok) => {
        member.checking = false;
        if (!this.#members.includes(member)) return;
        member.fails = ok ? 0 : member.fails + 1;
        member.passes = ok ? member.passes + 1 : 0;
        if (member.up && member.fails >= FALL) this.#mark(member, false);
        else if (!member.up && member.passes >= RISE) this.#mark(member, true);
      });
    }
  }

  #mark(member: Member, up: boolean): void {
    member.up = up;
    this.#apply();
    const event: HealthEvent = { at: Date.now(), writer: member.instance.writer, up, dropped: 0 };
    this.events.push(event);
    if (up) return;
    setTimeout(() => {
      const othersUp = this.#members.some((m) => m !== member && m.up);
      if (member.up || !othersUp || !this.#members.includes(member)) return;
      const target = { host: member.instance.host, port: member.instance.port };
      event.dropped = this.#balancer.dropSessions(target, 'websockets');
    }, CUT_AFTER_MS).unref();
  }
}

/** `GET /readyz` answered 200 within the timeout. */
function ready(instance: Instance): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { host: instance.host, port: instance.port, path: '/readyz', timeout: TIMEOUT_MS, agent: false },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
