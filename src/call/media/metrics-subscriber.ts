/** A call's events as updates of the server's Prometheus metrics (names and labels in observability/metrics.ts). */
import type { ServerMetrics } from '../../observability/metrics.ts';
import { outcomeLabel } from '../end-reasons.ts';
import type { SessionEvent, SessionSubscriber } from './session-events.ts';

export function metricsSubscriber(metrics: ServerMetrics): SessionSubscriber {
  return (event: SessionEvent) => {
    switch (event.type) {
      case 'frame.in':
        metrics.mediaIn.inc();
        return;
      case 'frame.out':
        metrics.mediaOut.inc();
        return;
      case 'call.live':
        metrics.callsActive.add(1);
        return;
      case 'call.resumed':
        metrics.callsResumed.inc();
        return;
      case 'actor.restarted':
        metrics.actorRestarts.inc();
        return;
      case 'audio.first':
        metrics.firstMediaMs.observe(event.msSinceStart);
        return;
      case 'turn.latency':
        metrics.turnLatencyMs.observe(event.endOfTurnMs);
        return;
      case 'nlu.shadow':
        metrics.shadowTurns.inc({ outcome: event.verdict.outcome });
        return;
      case 'barge-in':
        metrics.bargeIns.inc();
        return;
      case 'stream.rejected':
        metrics.protocolErrors.inc({ code: event.code });
        return;
      case 'call.ended':
        if (!event.wasLive) return;
        metrics.callsActive.add(-1);
        metrics.callsTotal.inc({ outcome: outcomeLabel(event.reason) });
        return;
      default:
        return;
    }
  };
}
