/**
 * The V8 heap of a server process started with `--inspect=127.0.0.1:PORT`, read over the DevTools protocol after
 * a full garbage collection: what the process really holds, which its RSS (pages kept by V8 and the allocator)
 * does not say.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import { WebSocket } from 'ws';

/** A port nothing listens on now, for the inspector. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Collects the process's garbage, then reads its heap in use, in MiB. */
export async function heapAfterGcMiB(inspectPort: number): Promise<number> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await once(ws, 'open');
  let id = 0;
  const call = (method: string): Promise<Record<string, number>> =>
    new Promise((resolve) => {
      const mine = ++id;
      const on = (data: Buffer): void => {
        const message = JSON.parse(data.toString()) as { id?: number; result?: Record<string, number> };
        if (message.id !== mine) return;
        ws.off('message', on);
        resolve(message.result ?? {});
      };
      ws.on('message', on);
      ws.send(JSON.stringify({ id: mine, method }));
    });
  try {
    await call('HeapProfiler.collectGarbage');
    return (await call('Runtime.getHeapUsage')).usedSize! / (1024 * 1024);
  } finally {
    ws.close();
  }
}
