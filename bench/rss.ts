/**
 * Server memory with concurrent calls waiting for DTMF: each simulated caller hears the greeting, then waits
 * (sending real-time silence, as Twilio does). Memory is sampled once every call has heard the greeting and is
 * inside the flow's no-input wait. RSS of the server process, and separately of its flite child processes.
 * Usage: node --import tsx bench/rss.ts [counts=1,100]
 */
import { placeCall } from '../src/simulator/caller.ts';
import { startServerProcess, type ServerProcess } from './server-process.ts';

const counts = (process.argv[2] ?? '1,100').split(',').map(Number);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const memory = (server: ServerProcess): string =>
  `server ${server.rssMiB().toFixed(1)} MiB, flite children ${server.childrenRssMiB().toFixed(1)} MiB`;

const server = await startServerProcess();
// One call first, so the greeting is cached and the engines are warm: we measure calls, not start-up.
await placeCall({ url: server.url, maxDurationMs: 1000 });
await sleep(2000);
console.log(`RSS idle: ${memory(server)}`);

for (const n of counts) {
  const controller = new AbortController();
  let heard = 0;
  let allHeard: () => void = () => {};
  const greeted = new Promise<void>((resolve) => (allHeard = resolve));
  const live = Array.from({ length: n }, () =>
    placeCall({
      url: server.url,
      idleHangupMs: 60_000,
      maxDurationMs: 60_000,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.kind === 'agent' && ++heard === n) allHeard();
      },
    }),
  );
  await greeted;
  // The demo flow now waits 6 s for a key; sample a second into that wait.
  await sleep(1000);
  const sample = memory(server);
  controller.abort();
  const results = await Promise.all(live);
  const waiting = results.filter((r) => r.marks.length === 1 && r.endedBy === 'caller').length;
  console.log(`RSS with ${n} concurrent calls waiting for DTMF: ${sample} (${waiting}/${n} were waiting)`);
  await sleep(2000);
}
await server.stop();
