/**
 * The `http` action's request (src/flow/actions/http/perform.ts), re-exported for the call layer, and a call's
 * own way of making it: with the environment variables the call captured, on the network whose addresses are
 * checked before connecting (http-network.ts), under the deployment's allow-list.
 */
import {
  performHttp,
  unsetEnvOfRequest,
  type ActionLog,
  type FlowFile,
  type HttpEffect,
  type HttpOutcome,
} from '../flow/index.ts';
import { httpNetwork } from './http-network.ts';

export {
  httpOutcomeEvent,
  performHttp,
  resolvePointer,
  type HttpActionOptions,
  type HttpEffect,
  type HttpOutcome,
} from '../flow/index.ts';

/** What a call's web requests are made with. */
export interface CallRequestContext {
  flow: FlowFile;
  /** The variables as the call captured them when it started (a resumed call keeps them); absent before. */
  env: Readonly<Record<string, string>> | undefined;
  /** HTTP_ALLOW_HOSTS. */
  allow: readonly string[] | undefined;
  logger: ActionLog;
}

/** Make a call's web request `effect`; never throws. */
export function callRequest(
  effect: HttpEffect,
  signal: AbortSignal,
  { flow, env, allow, logger }: CallRequestContext,
): Promise<HttpOutcome> {
  const unsetEnv = env ? unsetEnvOfRequest(flow, effect.id, env) : [];
  return performHttp(effect, signal, { logger, unsetEnv, network: httpNetwork, allow: allow ?? [] });
}
