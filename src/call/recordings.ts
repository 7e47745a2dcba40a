/**
 * A call's recordings, as Twilio's recording status callbacks report them (`in-progress`, `completed` with its
 * URL and duration, `absent` when nothing was recorded): journaled beside the call, as `recording-<CallSid>`,
 * since the callback can reach any instance while another holds the call's own journal. The call's page shows
 * them. A callback repeated, or arriving after the one it would replace, changes nothing.
 */
import {
  SIDE_JOURNAL_PREFIXES,
  appendToSideJournal,
  beginSideJournal,
  readSideJournal,
} from '../journal/side-journal.ts';
import type { JournalStore } from '../journal/store.ts';

export const RECORDING_PREFIX = SIDE_JOURNAL_PREFIXES.recording;

/** A recording of a call, as last reported. */
export interface Recording {
  sid: string;
  /** in-progress, paused, stopped, completed, absent, failed. */
  status: string;
  /** Where Twilio keeps the audio (append .wav or .mp3); null until completed. */
  url: string | null;
  /** Seconds; null until completed. */
  duration: number | null;
  channels: number | null;
  /** ms since the epoch of the last report. */
  at: number;
}

const RECORDING_SID = /^RE[0-9a-f]{32}$/;
/** The order a recording's reports come in; a report earlier than the last one taken is out of order. */
const STAGES: Readonly<Record<string, number>> = {
  'in-progress': 0,
  paused: 0,
  stopped: 1,
  completed: 2,
  absent: 2,
  failed: 2,
};

/** The callback's fields that describe a recording; null when they do not (no recording SID, unknown status). */
export function recordingReport(params: Record<string, string>): Omit<Recording, 'at'> | null {
  const sid = params.RecordingSid ?? '';
  const status = params.RecordingStatus ?? '';
  if (!RECORDING_SID.test(sid) || STAGES[status] === undefined) return null;
  const url = params.RecordingUrl;
  const duration = Number(params.RecordingDuration);
  const channels = Number(params.RecordingChannels);
  return {
    sid,
    status,
    url: url !== undefined && /^https?:\/\//.test(url) && url.length <= 500 ? url : null,
    duration: params.RecordingDuration !== undefined && Number.isFinite(duration) ? duration : null,
    channels: Number.isSafeInteger(channels) ? channels : null,
  };
}

/** Journal a report of one of `callSid`'s recordings; false when it changes nothing. */
export async function recordReport(
  store: JournalStore,
  owner: string,
  callSid: string,
  report: Omit<Recording, 'at'>,
  at: number,
): Promise<boolean> {
  const id = `${RECORDING_PREFIX}${callSid}`;
  await beginSideJournal(
    store,
    owner,
    id,
    { kind: 'start', flow: '', flowVersion: 0, modelVersion: null, params: {} },
    at,
  );
  return appendToSideJournal(
    store,
    owner,
    id,
    (records) => {
      const last = recordingsOf(records).find((r) => r.sid === report.sid);
      if (last && (last.status === report.status || STAGES[last.status]! > STAGES[report.status]!)) return [];
      return [{ kind: 'in', event: { type: 'recording.status', ...report } }];
    },
    at,
  );
}

/** The call's recordings, oldest first, each as last reported. */
export async function readRecordings(store: JournalStore, callId: string): Promise<Recording[]> {
  return recordingsOf(await readSideJournal(store, `${RECORDING_PREFIX}${callId}`));
}

function recordingsOf(records: Awaited<ReturnType<typeof readSideJournal>>): Recording[] {
  const bySid = new Map<string, Recording>();
  for (const r of records) {
    if (r.kind !== 'in' || r.event.type !== 'recording.status') continue;
    const report = recordingReport({
      RecordingSid: String(r.event.sid),
      RecordingStatus: String(r.event.status),
      ...(typeof r.event.url === 'string' ? { RecordingUrl: r.event.url } : {}),
      ...(typeof r.event.duration === 'number' ? { RecordingDuration: String(r.event.duration) } : {}),
      ...(typeof r.event.channels === 'number' ? { RecordingChannels: String(r.event.channels) } : {}),
    });
    if (report) bySid.set(report.sid, { ...report, at: r.at });
  }
  return [...bySid.values()];
}
