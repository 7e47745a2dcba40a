/**
 * Requests pinned to one worker of a `switchboard serve` with WORKERS > 1: the kernel hands each new connection
 * to a worker in turn, and every answer names its worker (X-Switchboard-Worker), so a kept-alive connection found
 * on the wanted worker stays there, and a websocket is opened again until it lands on the wanted one.
 */
import { Agent, request } from 'node:http';
import { WebSocket } from 'ws';

const WORKER_HEADER = 'x-switchboard-worker';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request over `agent`; resolves with the whole answer. */
export function send(
  agent: Agent,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A streamed answer (Server-Sent Events): the text so far, and all of it once the server ends it. */
export function stream(agent: Agent, url: string): { readonly text: string; done: Promise<string> } {
  const state = { text: '', done: Promise.resolve('') };
  state.done = new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (state.text += chunk));
      res.on('end', () => resolve(state.text));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  return state;
}

/** A kept-alive connection to each of `workers` (1..n): `agents.get(w)` reaches worker w only. */
export async function pinAgents(baseUrl: string, workers: number): Promise<Map<number, Agent>> {
  const agents = new Map<number, Agent>();
  for (let attempt = 0; agents.size < workers && attempt < workers * 20; attempt++) {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const answer = await send(agent, `${baseUrl}/healthz`);
    const worker = Number(answer.headers[WORKER_HEADER]);
    if (worker >= 1 && !agents.has(worker)) agents.set(worker, agent);
    else agent.destroy();
  }
  if (agents.size < workers) throw new Error(`reached ${agents.size} of ${workers} workers`);
  return agents;
}

/** A websocket opened on `worker`: others it lands on are closed before it is used. */
export async function openOnWorker(
  url: string,
  worker: number,
  headers: Record<string, string> = {},
): Promise<WebSocket> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    const landed = await new Promise<number>((resolve, reject) => {
      ws.once('upgrade', (res) => resolve(Number(res.headers[WORKER_HEADER])));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
    if (landed === worker) {
      if (ws.readyState !== WebSocket.OPEN) await new Promise((r) => ws.once('open', r));
      return ws;
    }
    ws.terminate();
  }
  throw new Error(`no websocket landed on worker ${worker}`);
}
