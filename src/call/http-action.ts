/**
 * The `http` action's request (src/flow/actions/http/perform.ts), re-exported for the call layer: the session
 * makes a state's web request with it, with the environment variables the call captured.
 */
export {
  httpOutcomeEvent,
  performHttp,
  resolvePointer,
  type HttpActionOptions,
  type HttpEffect,
  type HttpOutcome,
} from '../flow/index.ts';
