/**
 * What the processes of one server say to each other over node:cluster's IPC channel. The primary relays: a
 * worker broadcasts to its peers, or gathers an answer from every worker (itself included) through it.
 */

/** A worker started: it is listening, and gives the banner lines only the primary prints. */
export interface ReadyMessage {
  sb: 'ready';
  banner: string[];
}
/** From a worker: deliver `data` under `topic` to every other worker. */
export interface BroadcastMessage {
  sb: 'broadcast';
  topic: string;
  data: unknown;
}
/** From a worker: ask every worker (itself included) under `topic`; the answers come back as `gathered`. */
export interface GatherMessage {
  sb: 'gather';
  id: number;
  topic: string;
  data: unknown;
}
/** From the primary to each worker: answer `topic` for the gather `id`. */
export interface AskMessage {
  sb: 'ask';
  id: number;
  topic: string;
  data: unknown;
}
/** A worker's answer to an `ask`; `error` when its handler failed or there is none. */
export interface AnswerMessage {
  sb: 'answer';
  id: number;
  data: unknown;
  error?: string;
}
/** From the primary to the worker that gathered: each worker's answer, and the workers that gave none in time. */
export interface GatheredMessage {
  sb: 'gathered';
  id: number;
  answers: { worker: string; data: unknown }[];
  missing: string[];
}
/** From the primary: stop taking calls, drain, and exit (SIGTERM or SIGINT reached the primary). */
export interface DrainMessage {
  sb: 'drain';
  signal: string;
}

export type ClusterMessage =
  | ReadyMessage
  | BroadcastMessage
  | GatherMessage
  | AskMessage
  | AnswerMessage
  | GatheredMessage
  | DrainMessage;

const KINDS = new Set(['ready', 'broadcast', 'gather', 'ask', 'answer', 'gathered', 'drain']);

/** Whether `value` is one of these messages (the channel also carries node:cluster's own). */
export function isClusterMessage(value: unknown): value is ClusterMessage {
  return typeof value === 'object' && value !== null && KINDS.has((value as { sb?: unknown }).sb as string);
}

/** The environment variable that gives a worker its slot (1..WORKERS), kept when the worker is replaced. */
export const WORKER_SLOT_ENV = 'SWITCHBOARD_WORKER_SLOT';

/** The gather of every process's Prometheus exposition; the primary adds its own. */
export const METRICS_TOPIC = 'metrics';

/** The gather of every worker's readiness, for `/readyz`. */
export const READINESS_TOPIC = 'readiness';

/** The broadcast of a call whose stream started in a worker, for admission control's count in the others. */
export const STREAM_STARTED_TOPIC = 'stream.started';
