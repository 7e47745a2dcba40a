/**
 * Server memory with concurrent calls waiting for DTMF: each simulated caller listens to the greeting, then
 * waits (sending real-time silence like Twilio). RSS is read from /proc while every call is waiting.
 * Usage: node --import tsx bench/rss.ts [counts=1,100]
 */
import { placeCall } from '../src/simulator/caller.ts';
import { startServerProcess } from './server-process.ts';

const counts = (process.argv[2] ?? '1,100').split(',').map(Number);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const server = await startServerProcess();
// One call first, so the greeting is cached and the engines are warm: we measure calls, not start-up.
await placeCall({ url: server.url, maxDurationMs: 1000 });
await sleep(1000);
console.log(`server RSS idle: ${server.rssMiB().toFixed(1)} MiB`);

for (const n of counts) {
  const controller = new AbortController();
  const live = Array.from({ length: n }, () =>
    placeCall({ url: server.url, idleHangupMs: 60_000, maxDurationMs: 60_000, signal: controller.signal }),
  );
  // The greeting lasts about 6 s; the demo flow then waits 6 s for a key. Sample in that window.
  await sleep(8500);
  const rss = server.rssMiB();
  controller.abort();
  const results = await Promise.all(live);
  const heard = results.filter((r) => r.marks.length > 0).length;
  console.log(
    `server RSS with ${n} concurrent calls waiting for DTMF: ${rss.toFixed(1)} MiB (${heard}/${n} heard the greeting)`,
  );
  await sleep(1500);
}
await server.stop();
