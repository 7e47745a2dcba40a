/**
 * A campaign in the journal store, `campaign-<id>`: what it calls with (its flow and file), how far its runner
 * has got (counts of outcomes, written every few seconds and at the end), and whether it was cancelled. Its
 * calls are dials of their own (dial-journal.ts), keyed `<id>.<row>.<attempt>`, so a runner killed at any point
 * and started again finds every number it dialed, and `switchboard campaign status` reads the counts here
 * without walking them.
 */
import { SwitchboardError } from '../errors.ts';
import type { JournalRecord } from '../journal/records.ts';
import type { JournalStore } from '../journal/store.ts';
import {
  SIDE_JOURNAL_PREFIXES,
  appendToSideJournal,
  beginSideJournal,
  readSideJournal,
} from '../journal/side-journal.ts';

export const CAMPAIGN_PREFIX = SIDE_JOURNAL_PREFIXES.campaign;
/** Campaign ids: short enough to prefix every dial key of the campaign. */
export const CAMPAIGN_ID = /^[A-Za-z0-9_-]{1,40}$/;

/** How many rows came to each outcome so far. */
export type CampaignCounts = Record<string, number>;

export interface Campaign {
  id: string;
  flow: string;
  /** The campaign file's name, as the runner gave it. */
  file: string;
  startedAt: number;
  /** ms since the epoch of the last progress written, or the start. */
  updatedAt: number;
  counts: CampaignCounts;
  /** Every row has reached its outcome (a later run may still take up rows skipped for quiet hours). */
  done: boolean;
  cancelled: boolean;
}

export function campaignJournalId(id: string): string {
  return `${CAMPAIGN_PREFIX}${id}`;
}

export async function readCampaign(store: JournalStore, id: string): Promise<Campaign | null> {
  return campaignOf(id, await readSideJournal(store, campaignJournalId(id)));
}

function campaignOf(id: string, records: readonly JournalRecord[]): Campaign | null {
  const first = records[0];
  if (first?.kind !== 'start') return null;
  const campaign: Campaign = {
    id,
    flow: first.flow,
    file: first.params.file ?? '',
    startedAt: first.at,
    updatedAt: first.at,
    counts: {},
    done: false,
    cancelled: false,
  };
  for (const r of records) {
    if (r.kind !== 'in') continue;
    if (r.event.type === 'campaign.cancel') campaign.cancelled = true;
    if (r.event.type === 'campaign.progress') {
      campaign.updatedAt = r.at;
      campaign.counts = countsOf(r.event.counts);
      campaign.done = r.event.done === true;
    }
  }
  return campaign;
}

/**
 * Begin campaign `id`, or take it up again: the campaign as journaled. CAMPAIGN_INVALID when the id is taken by
 * a campaign of another flow.
 */
export async function beginCampaign(
  store: JournalStore,
  owner: string,
  id: string,
  flow: string,
  file: string,
  at: number,
): Promise<Campaign> {
  const first = { kind: 'start' as const, flow, flowVersion: 0, modelVersion: null, params: { file } };
  await beginSideJournal(store, owner, campaignJournalId(id), first, at);
  const campaign = await readCampaign(store, id);
  if (campaign === null)
    throw new SwitchboardError('JOURNAL_NOT_FOUND', 'the campaign was not journaled', { id });
  if (campaign.flow !== flow) {
    throw new SwitchboardError('CAMPAIGN_INVALID', `campaign ${id} calls with another flow`, { id });
  }
  return campaign;
}

/** Journal the runner's counts; resolves with the campaign, whose `cancelled` tells the runner to stop. */
export async function recordProgress(
  store: JournalStore,
  owner: string,
  id: string,
  counts: CampaignCounts,
  done: boolean,
  at: number,
): Promise<Campaign> {
  await appendToSideJournal(
    store,
    owner,
    campaignJournalId(id),
    (records) => {
      if (campaignOf(id, records) === null) throw notFound(id);
      return [{ kind: 'in', event: { type: 'campaign.progress', counts: countsOf(counts), done } }];
    },
    at,
  );
  return (await readCampaign(store, id))!;
}

/** Cancel a campaign: its runner stops placing calls when it next writes its progress. */
export async function cancelCampaign(
  store: JournalStore,
  owner: string,
  id: string,
  at: number,
): Promise<Campaign> {
  await appendToSideJournal(
    store,
    owner,
    campaignJournalId(id),
    (records) => {
      const campaign = campaignOf(id, records);
      if (campaign === null) throw notFound(id);
      return campaign.cancelled ? [] : [{ kind: 'in', event: { type: 'campaign.cancel' } }];
    },
    at,
  );
  return (await readCampaign(store, id))!;
}

/** Counts as numbers by name, whatever was sent or journaled. */
function countsOf(value: unknown): CampaignCounts {
  const counts: CampaignCounts = {};
  if (typeof value !== 'object' || value === null) return counts;
  for (const [name, n] of Object.entries(value)) {
    if (/^[a-z_]{1,40}$/.test(name) && Number.isSafeInteger(n) && (n as number) >= 0)
      counts[name] = n as number;
  }
  return counts;
}

function notFound(id: string): SwitchboardError {
  return new SwitchboardError('JOURNAL_NOT_FOUND', `no campaign ${id}`, { id });
}
