/**
 * Start-up time of `switchboard serve` (process start to its banner) with the embedded voice and with Google's,
 * against the fake Text-to-Speech server (GOOGLE_API_ENDPOINT): what choosing Google costs at start-up, with its
 * client loaded then rather than on the first call. NLU is off; the last case selects both Google engines (their
 * embedded fallbacks load after the banner, in the background).
 * Usage: node --import tsx bench/google-startup.ts [runs=3]
 */
import { startFakeTts } from '../test/fakes/google-tts-server.ts';
import { serve } from '../test/support/serve-process.ts';

const runs = Number(process.argv[2] ?? 3);
const fake = await startFakeTts();
const base = { STT: 'off', NLU: 'off', STORE_URL: 'memory:' };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const [label, env] of [
  ['TTS=flite', { ...base, TTS: 'flite' }],
  ['TTS=google', { ...base, TTS: 'google', GOOGLE_API_ENDPOINT: `${fake.host}:${fake.port}` }],
  [
    'TTS=google STT=google',
    { ...base, TTS: 'google', STT: 'google', GOOGLE_API_ENDPOINT: `${fake.host}:${fake.port}` },
  ],
] as const) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const s = await serve(env);
    // serve() waits 100 ms after the banner's first line for the rest of it.
    times.push(performance.now() - t0 - 100);
    s.child.kill('SIGTERM');
    await s.exited;
  }
  console.log(
    `${label.padEnd(22)} start to banner: median ${median(times).toFixed(0)} ms (${times.map((t) => t.toFixed(0)).join(', ')})`,
  );
}
console.log(`requests the fake received during start-ups: ${fake.requests.length}`);
await fake.close();
