/**
 * Whether a journaled call can go on here: only on the flow it started on, at the version it started on, since
 * its journal replays events into that flow's machine. The server checks before it hands Twilio a new stream;
 * the call's session checks again when the stream arrives.
 */
import { SwitchboardError } from '../errors.ts';
import type { StartEntry } from './records.ts';

/**
 * RESUME_REFUSED when the call cannot resume on flow `flow` at `loadedVersion` (undefined: no flow of that name is
 * loaded here), else null. A call whose journal has no start record never began: it starts over, so the flow
 * only has to be loaded.
 */
export function resumeRefusal(
  start: StartEntry | null,
  flow: string,
  loadedVersion: number | undefined,
): SwitchboardError | null {
  const same = start === null || (start.flow === flow && start.flowVersion === loadedVersion);
  if (loadedVersion !== undefined && same) return null;
  return new SwitchboardError('RESUME_REFUSED', 'the flow version the call runs is not loaded here', {
    flow: start?.flow ?? flow,
    flowVersion: start?.flowVersion ?? null,
    loadedVersion: loadedVersion ?? null,
  });
}
