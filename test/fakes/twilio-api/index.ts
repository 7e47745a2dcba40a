/**
 * Test double of Twilio's REST API (2010-04-01) as a real HTTP server on 127.0.0.1, so the REAL twilio library
 * (pointed at `url`) places outbound calls, lists and updates them, records them and configures numbers, all
 * offline. Requests are form-encoded and need HTTP Basic auth with the account SID and auth token; answers are
 * JSON shaped like Twilio's (snake_case resources, list envelopes the library's pager reads, errors as
 * `{ code, message, more_info, status }`).
 *
 * A created call is "placed" asynchronously from a script per callee number (`script(to, outcome)`, or
 * `scriptSequence(to, outcomes)` for successive calls; a human answers by default): it sends the status
 * callbacks the request asked for, fetches the voice `Url` on answer and keeps the TwiML it got, and posts
 * answering-machine detection results. Every webhook is form-encoded and signed with X-Twilio-Signature under
 * the auth token. Each call's webhooks go out one after another, `stepMs` apart, so their order is
 * deterministic. The fake opens no media stream: a test connects one from the TwiML in `call(sid).twiml`.
 * `gather(sid, digits)` answers the `<Gather>` of a call's TwiML as its callee would (Twilio posts the action),
 * and `conference(sid)` reads which conference room its TwiML seats it in. Answered calls stay up until `complete(sid)` (the callee hangs up), the scripted (or fake-wide)
 * `hangupAfterMs` after the answer, or a REST update with `Status=completed`; the TwiML itself is not
 * interpreted, but a voice webhook that fails (no 2xx) hangs up, as Twilio does after an application error.
 * `Timeout` is kept in `call(sid).params`, not waited for.
 *
 * For crash tests of the client, `holdCreates(to, mode)` holds the next create for `to`: 'drop' loses the
 * request (no call, no answer), 'hold' places the call but withholds the answer until `releaseHeld()`, or
 * forever if the client's connection closes first; either emits a 'held' event to kill the client on.
 *
 * Tests wait on `waitFor(predicate)` over the events (requests, webhooks sent, status changes, TwiML, held
 * creates), never on sleeps. Request bodies are bounded (64 KiB, else 413) and so are the webhook answers it
 * keeps.
 *
 * server.ts is the HTTP side (auth, routing); calls.ts, recordings.ts and numbers.ts the resources;
 * placing.ts what happens to a call once created; webhooks.ts how webhooks are sent; events.ts the event log.
 */
export { FakeTwilioApiServer } from './server.ts';
export type {
  AnsweredBy,
  FakeCall,
  FakeCallStatus,
  FakeConferenceSeat,
  FakeNumberConfig,
  FakeRecording,
  FakeTwilioApiOptions,
  FakeTwilioEvent,
  FakeTwilioRequest,
  FakeWebhook,
  FakeWebhookKind,
  HeldCreateMode,
  ScriptedOutcome,
} from './types.ts';
