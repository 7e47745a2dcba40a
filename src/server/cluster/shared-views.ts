/**
 * Live views across the processes of one server. The softphone's page places a call, opens its media stream and
 * subscribes to its view in three requests that may each reach a different worker, so a view is opened in every
 * worker before the page is answered, and each event the session publishes in its worker is copied to the others:
 * whichever worker serves the event stream has the whole view. Only softphone calls are viewed, so this is a
 * handful of small messages per turn.
 */
import { CallViews, type CallViewEvent, type CallViewsOptions } from '../../call/call-view.ts';
import type { WorkerLink } from './worker-link.ts';

const OPEN_TOPIC = 'view.open';
const EVENT_TOPIC = 'view.event';

interface SharedEvent {
  callId: string;
  event: CallViewEvent;
}

export class SharedCallViews extends CallViews {
  readonly #link: WorkerLink;

  constructor(link: WorkerLink, options: CallViewsOptions = {}) {
    super(options);
    this.#link = link;
    link.answer(OPEN_TOPIC, (callId) => {
      if (typeof callId === 'string') super.open(callId);
      return true;
    });
    link.listen(EVENT_TOPIC, (data) => {
      const { callId, event } = data as SharedEvent;
      super.publish(callId, event);
    });
  }

  /** Open the view in every worker; resolves once each has (a worker that does not answer in time is skipped). */
  override async share(callId: string): Promise<void> {
    super.open(callId);
    await this.#link.gather(OPEN_TOPIC, callId);
  }

  override publish(callId: string, event: CallViewEvent): void {
    if (!this.has(callId)) return;
    super.publish(callId, event);
    this.#link.broadcast(EVENT_TOPIC, { callId, event } satisfies SharedEvent);
  }
}
