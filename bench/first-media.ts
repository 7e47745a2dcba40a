/**
 * Time from the caller's `start` message to the first agent media frame, as the simulated caller sees it.
 * Cold: a fresh server process per call, so the greeting is synthesized on the call's path. Warm: one server,
 * the greeting already in the prompt cache. Usage: node --import tsx bench/first-media.ts [calls=20]
 */
import { placeCall } from '../src/simulator/caller.ts';
import { percentile, startServerProcess } from './server-process.ts';

const calls = Number(process.argv[2] ?? 20);

async function firstMedia(url: string): Promise<number> {
  const result = await placeCall({ url, maxDurationMs: 1500 });
  if (result.firstMediaMs === null) throw new Error('no agent audio arrived');
  return result.firstMediaMs;
}

const cold: number[] = [];
for (let i = 0; i < calls; i++) {
  const server = await startServerProcess();
  cold.push(await firstMedia(server.url));
  await server.stop();
}

const warm: number[] = [];
const server = await startServerProcess();
await firstMedia(server.url); // fills the cache
for (let i = 0; i < calls; i++) warm.push(await firstMedia(server.url));
await server.stop();

const fmt = (xs: number[]) =>
  `median ${percentile(xs, 50).toFixed(1)} ms, p95 ${percentile(xs, 95).toFixed(1)} ms`;
console.log(`start -> first agent media frame over ${calls} calls`);
console.log(`  cold cache: ${fmt(cold)}`);
console.log(`  warm cache: ${fmt(warm)}`);
