/**
 * Ports for running one action's effect in a unit test (the real ones are the call's EffectRunner): work waits
 * for the audio until `heard()`, events and log lines are kept, and a port the test did not give fails it.
 */
import assert from 'node:assert/strict';
import type { ActionPorts, CallEvent } from '../../../src/flow/index.ts';

export function fakePorts(given: Partial<ActionPorts>) {
  const waiting: (() => Promise<void> | void)[] = [];
  const delivered: CallEvent[] = [];
  const logged: { msg: string; fields?: Record<string, unknown> }[] = [];
  let stopped = false;
  const log = (msg: string, fields?: Record<string, unknown>) => logged.push({ msg, fields });
  const unused = (): never => assert.fail('a port this test does not give');
  const ports: ActionPorts = {
    log: { debug: log, info: log, warn: log, error: log },
    now: () => 5000,
    deliver: (event) => delivered.push(event),
    stopped: () => stopped,
    signal: new AbortController().signal,
    speak: unused,
    clear: unused,
    afterAudio: (work) => waiting.push(work),
    startTimer: unused,
    cancelTimer: unused,
    hangup: unused,
    transfer: unused,
    record: unused,
    fetch: unused,
    track: unused,
    ...given,
  };
  /** Everything said so far has been heard: run the work waiting for it. */
  const heard = async () => {
    for (const work of waiting.splice(0)) await work();
  };
  return { ports, delivered, logged, heard, stop: () => (stopped = true) };
}
