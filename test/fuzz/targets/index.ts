/** Every fuzz target, by name: what `npm run fuzz` runs and the unit tests' short run covers. */
import type { FuzzTarget } from '../target.ts';
import { flow } from './flow.ts';
import { httpRequests } from './http-requests.ts';
import { journal } from './journal.ts';
import { mediaSession } from './media-session.ts';
import { mediaStreams } from './media-streams.ts';
import { modelDir } from './model-dir.ts';
import { replay } from './replay.ts';
import { softphoneTarget } from './softphone.ts';
import { twiml } from './twiml.ts';
import { webhooksTarget } from './webhooks.ts';

export const TARGETS: readonly FuzzTarget[] = [
  mediaStreams,
  mediaSession,
  webhooksTarget,
  httpRequests,
  twiml,
  flow,
  journal,
  softphoneTarget,
  modelDir,
  replay,
];

export function targetNamed(name: string): FuzzTarget | undefined {
  return TARGETS.find((t) => t.name === name);
}
