/**
 * A test double of the cluster's primary for WorkerLinks in one process: it relays broadcasts to the other links
 * and answers gathers with every link's answer, as src/server/cluster/primary.ts does over IPC.
 */
import type { ClusterMessage } from '../../src/server/cluster/messages.ts';
import { WorkerLink, type Channel } from '../../src/server/cluster/worker-link.ts';

interface Member {
  slot: number;
  deliver: (message: unknown) => void;
}

export class FakeClusterRelay {
  readonly #members: Member[] = [];
  /** Every message a link sent, for assertions. */
  readonly sent: { slot: number; message: ClusterMessage }[] = [];
  #pending = new Map<
    number,
    { from: Member; requestId: number; left: number; answers: { worker: string; data: unknown }[] }
  >();
  #nextKey = 1;

  /** A new link, as if a worker of `slot` had joined. */
  join(slot: number, options: { gatherTimeoutMs?: number } = {}): WorkerLink {
    const listeners: ((message: unknown) => void)[] = [];
    const member: Member = { slot, deliver: (m) => queueMicrotask(() => listeners.forEach((l) => l(m))) };
    this.#members.push(member);
    const channel: Channel = {
      send: (message) => {
        this.sent.push({ slot, message });
        this.#relay(member, message);
      },
      on: (_event, listener) => void listeners.push(listener),
    };
    return new WorkerLink(channel, slot, options);
  }

  #relay(from: Member, message: ClusterMessage): void {
    switch (message.sb) {
      case 'broadcast':
        for (const m of this.#members) if (m !== from) m.deliver(message);
        return;
      case 'gather': {
        const key = this.#nextKey++;
        this.#pending.set(key, { from, requestId: message.id, left: this.#members.length, answers: [] });
        for (const m of this.#members)
          m.deliver({ sb: 'ask', id: key, topic: message.topic, data: message.data });
        return;
      }
      case 'answer': {
        const pending = this.#pending.get(message.id);
        if (!pending) return;
        if (message.error === undefined)
          pending.answers.push({ worker: String(from.slot), data: message.data });
        pending.left -= 1;
        if (pending.left === 0) {
          this.#pending.delete(message.id);
          pending.from.deliver({
            sb: 'gathered',
            id: pending.requestId,
            answers: pending.answers,
            missing: [],
          });
        }
        return;
      }
      default:
        return;
    }
  }
}
