/**
 * GoogleTts latency against the local fake Text-to-Speech server (offline; Google's own latency is not measured):
 * the first synthesis including the lazy load of the client, a fresh synthesis with the client warm, and
 * PromptCache hits (first call vs. repeated calls, p50/p99 over 1000 hits), and hits from the disk tier, as after a
 * restart (a fresh cache on the same directory, p50/p99 over 200 prompts).
 * Usage: node --import tsx bench/google-tts.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleTts } from '../src/speech/tts/google.ts';
import { PromptCache } from '../src/speech/tts/prompt-cache.ts';
import { startFakeTts } from '../test/fakes/google-tts-server.ts';

const HITS = 1000;
const PROMPT = 'Thank you for calling. How can I help you today?';

const fake = await startFakeTts();
const tts = new GoogleTts({ endpoint: { host: fake.host, port: fake.port } });
const cache = new PromptCache(tts);

let t = performance.now();
await tts.synthesize({ text: 'Hello.' });
const firstSynthesisMs = performance.now() - t;

t = performance.now();
await tts.synthesize({ text: 'Hello again.' });
const warmSynthesisMs = performance.now() - t;

t = performance.now();
await cache.get({ text: PROMPT });
const cacheMissMs = performance.now() - t;

const hits: number[] = [];
for (let i = 0; i < HITS; i++) {
  const s = performance.now();
  await cache.get({ text: PROMPT });
  hits.push(performance.now() - s);
}
hits.sort((a, b) => a - b);
const pct = (p: number): number => hits[Math.min(hits.length - 1, Math.floor((p / 100) * hits.length))]!;

console.log(`first synthesis, lazy client load included: ${firstSynthesisMs.toFixed(1)} ms`);
console.log(`synthesis with the client loaded:           ${warmSynthesisMs.toFixed(2)} ms`);
console.log(`PromptCache first call (miss):              ${cacheMissMs.toFixed(2)} ms`);
console.log(
  `PromptCache repeated call (hit), ${HITS}x:     p50 ${(pct(50) * 1000).toFixed(1)} us, p99 ${(pct(99) * 1000).toFixed(1)} us, max ${(hits.at(-1)! * 1000).toFixed(1)} us`,
);
console.log(`requests the fake received: ${fake.requests.length} (expected 3)`);

// The disk tier: each prompt written by one cache, then read by a fresh one, as after a restart.
const DISK = 200;
const dir = await mkdtemp(join(tmpdir(), 'switchboard-bench-prompts-'));
const texts = Array.from({ length: DISK }, (_, i) => `Prompt number ${i}: thank you for calling.`);
const writer = new PromptCache(tts, { dir });
for (const text of texts) await writer.get({ text });
await writer.flush();
const asked = fake.requests.length;
const reader = new PromptCache(tts, { dir });
const disk: number[] = [];
for (const text of texts) {
  const s = performance.now();
  await reader.get({ text });
  disk.push(performance.now() - s);
}
disk.sort((a, b) => a - b);
const at = (p: number): number => disk[Math.min(disk.length - 1, Math.floor((p / 100) * disk.length))]!;
console.log(
  `PromptCache disk hit after a restart, ${DISK}x:   p50 ${at(50).toFixed(2)} ms, p99 ${at(99).toFixed(2)} ms; requests to the fake: ${fake.requests.length - asked} (expected 0)`,
);
await rm(dir, { recursive: true, force: true });

await tts.close();
await fake.close();
