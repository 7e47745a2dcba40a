/**
 * A network namespace joined to the host by a veth pair, so one server instance can be cut off from the
 * database or from its callers while the other keeps both. The host end has three addresses, one per peer the
 * instance talks to: `callers` (the balancer's connections and health checks come from it), `db` (the private
 * PostgreSQL listens on it) and `services` (the flows' web services). A cut drops that peer's packets both ways
 * with iptables rules inside the namespace: silently, as a real partition does, and leaving the host's own
 * firewall alone. Deleting the namespace takes its rules and the veth pair with it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { atExit } from './lifecycle.ts';

const run = promisify(execFile);

/** The peers an instance in the namespace reaches on the host, each at an address of its own. */
export type Peer = 'callers' | 'db' | 'services';

export class Netns {
  readonly name: string;
  /** The instance's address inside the namespace. */
  readonly inside: string;
  /** The host's address for each peer. */
  readonly host: Readonly<Record<Peer, string>>;
  readonly #hostLink: string;
  readonly #cut = new Set<Peer>();
  readonly #cleanup: () => void;

  private constructor(name: string, hostLink: string, subnet: string) {
    this.name = name;
    this.#hostLink = hostLink;
    this.inside = `${subnet}.2`;
    this.host = { callers: `${subnet}.1`, db: `${subnet}.3`, services: `${subnet}.4` };
    this.#cleanup = atExit(`network namespace ${name}`, () => this.#destroySync());
  }

  /** Whether this process may make namespaces (root, with iproute2 and iptables). */
  static available(): boolean {
    if (process.getuid?.() !== 0) return false;
    try {
      execFileSync('ip', ['-V'], { stdio: 'ignore' });
      execFileSync('iptables', ['-V'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }

  /** A namespace named after this process, on a /24 of 10.231.0.0/16 picked from the pid. */
  static async create(): Promise<Netns> {
    const id = process.pid;
    const subnet = `10.231.${(id % 200) + 20}`;
    const name = `sbchaos${id}`;
    const hostLink = `sbc${id}h`;
    const nsLink = `sbc${id}n`;
    const ns = new Netns(name, hostLink, subnet);
    const steps: string[][] = [
      ['netns', 'add', name],
      ['link', 'add', hostLink, 'type', 'veth', 'peer', 'name', nsLink],
      ['link', 'set', nsLink, 'netns', name],
      // The callers' address first: the kernel picks a link's first address as the source of connections.
      ['addr', 'add', `${ns.host.callers}/24`, 'dev', hostLink],
      ['addr', 'add', `${ns.host.db}/24`, 'dev', hostLink],
      ['addr', 'add', `${ns.host.services}/24`, 'dev', hostLink],
      ['link', 'set', hostLink, 'up'],
      ['netns', 'exec', name, 'ip', 'addr', 'add', `${ns.inside}/24`, 'dev', nsLink],
      ['netns', 'exec', name, 'ip', 'link', 'set', nsLink, 'up'],
      ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up'],
    ];
    try {
      for (const args of steps) await run('ip', args);
    } catch (err) {
      ns.destroy();
      throw err;
    }
    return ns;
  }

  /** The subnet, for trusting it in pg_hba.conf. */
  get cidr(): string {
    return `${this.inside.slice(0, this.inside.lastIndexOf('.'))}.0/24`;
  }

  /** The command prefix that runs a program inside the namespace. */
  get exec(): string[] {
    return ['ip', 'netns', 'exec', this.name];
  }

  /** Drop every packet between the instance and `peer`, both ways. */
  async cut(peer: Peer): Promise<void> {
    if (this.#cut.has(peer)) return;
    await this.#rules('-I', peer);
    this.#cut.add(peer);
  }

  /** Let `peer`'s packets through again. */
  async heal(peer: Peer): Promise<void> {
    if (!this.#cut.has(peer)) return;
    await this.#rules('-D', peer);
    this.#cut.delete(peer);
  }

  /** Remove the namespace and the veth pair (also done at exit). */
  destroy(): void {
    this.#cleanup();
  }

  async #rules(op: '-I' | '-D', peer: Peer): Promise<void> {
    const address = this.host[peer];
    const inside = ['netns', 'exec', this.name, 'iptables', op];
    await run('ip', [...inside, 'OUTPUT', '-d', address, '-j', 'DROP']);
    await run('ip', [...inside, 'INPUT', '-s', address, '-j', 'DROP']);
  }

  #destroySync(): void {
    // The pair goes with either end; deleting the host end first makes it go at once. Either may be gone
    // already (a half-made namespace), so each is tried.
    for (const args of [
      ['link', 'del', this.#hostLink],
      ['netns', 'del', this.name],
    ]) {
      try {
        execFileSync('ip', args, { stdio: 'ignore' });
      } catch {
        // Not there.
      }
    }
  }
}
