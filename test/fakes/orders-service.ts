/**
 * A test double for a flow's web service (the pizzeria's orders endpoint) that keeps count of idempotency keys,
 * as a real service that drops repeats would: each key is applied once, and a request carrying a key already
 * seen is counted as a repeat and answered with the first answer.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OrdersService {
  url: string;
  /** Idempotency keys applied, in order: one per distinct order. */
  applied: string[];
  /** Requests whose key had been applied before (re-issued after a crash, retried). */
  repeats: number;
  /** Requests that carried no key. */
  unkeyed: number;
  close(): Promise<void>;
}

/** Listens on `host` (loopback unless given), on a free port. */
export async function startOrdersService(host = '127.0.0.1'): Promise<OrdersService> {
  const applied: string[] = [];
  const seen = new Set<string>();
  const state = { repeats: 0, unkeyed: 0 };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const key = req.headers['idempotency-key'];
      if (typeof key !== 'string' || key === '') state.unkeyed += 1;
      else if (seen.has(key)) state.repeats += 1;
      else {
        seen.add(key);
        applied.push(key);
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: String(applied.length), readyInMinutes: 15 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    applied,
    get repeats() {
      return state.repeats;
    },
    get unkeyed() {
      return state.unkeyed;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
