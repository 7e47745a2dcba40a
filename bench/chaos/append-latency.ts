/** Journal append latency of a store, measured on an idle machine after the run rather than during it. */
import { openStore } from '../../src/journal/open-store.ts';
import { encodeRecord } from '../../src/journal/records.ts';
import type { StoredRecord } from '../../src/journal/store.ts';
import { memoryLogger } from '../../src/observability/logger.ts';
import { percentile } from '../server-process.ts';
import { errText } from './callers.ts';

/** One line: p50 and p99 of 500 single-record appends to `url` (after 20 that warm it up). */
export async function appendLatency(name: string, url: string): Promise<string> {
  try {
    const store = await openStore(url, { logger: memoryLogger('warn').logger });
    try {
      const lease = await store.acquire(`CAchaosappend${process.pid}`, 'bench-chaos');
      const times: number[] = [];
      for (let seq = 1; seq <= 520; seq++) {
        const at = Date.now();
        const event = { type: 'dtmf', at, digit: '1' };
        const line = encodeRecord({ v: 1, callId: lease.callId, seq, at, kind: 'in', event });
        const record: StoredRecord = { seq, kind: 'in', at, line };
        const started = performance.now();
        await store.append(lease, [record]);
        if (seq > 20) times.push(performance.now() - started);
      }
      const p = (q: number): string => percentile(times, q).toFixed(2);
      return `${name.padEnd(9)} ${times.length} single-record appends: p50 ${p(50)} ms, p99 ${p(99)} ms`;
    } finally {
      await store.close();
    }
  } catch (err) {
    return `${name.padEnd(9)} failed: ${errText(err)}`;
  }
}
