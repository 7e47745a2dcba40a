/** Checks of a flow's own `on`: the states a call goes to on what may happen in any state (answered.ts). */
import { isObject, unknownKeys, type Add } from './finding.ts';

const FLOW_ON_KEYS: ReadonlySet<string> = new Set(['machine']);

export function checkFlowOn(on: unknown, stateRef: (pointer: string, name: unknown) => void, add: Add): void {
  if (on === undefined) return;
  if (!isObject(on)) {
    add('/on', 'on must be an object naming states', 'e.g. "on": { "machine": "voicemail" }');
    return;
  }
  unknownKeys(on, FLOW_ON_KEYS, '/on', add);
  if (on.machine !== undefined) stateRef('/on/machine', on.machine);
}
