/**
 * The calls API's campaign routes, for `switchboard campaign`: `PUT /api/campaigns/<id>` begins a campaign or
 * takes it up again, `POST .../progress` journals its runner's counts (and answers whether it was cancelled),
 * `POST .../cancel` cancels it, `GET /api/campaigns/<id>` is where it stands.
 */
import { SwitchboardError } from '../../errors.ts';
import type { JournalStore } from '../../journal/store.ts';
import {
  CAMPAIGN_ID,
  beginCampaign,
  cancelCampaign,
  readCampaign,
  recordProgress,
  type Campaign,
} from '../../outbound/campaign-journal.ts';

export type CampaignAction = 'begin' | 'read' | 'progress' | 'cancel';

/** The campaign route `method path` names, or null when it names none. */
export function campaignRoute(method: string, path: string): { id: string; action: CampaignAction } | null {
  const m = /^\/api\/campaigns\/([^/]+)(\/progress|\/cancel)?$/.exec(path);
  if (!m) return null;
  const id = decodeURIComponent(m[1]!);
  const action =
    m[2] === '/progress' ? 'progress' : m[2] === '/cancel' ? 'cancel' : method === 'PUT' ? 'begin' : 'read';
  const allowed = { begin: 'PUT', read: 'GET', progress: 'POST', cancel: 'POST' }[action];
  if (method !== allowed) throw new SwitchboardError('HTTP_METHOD_NOT_ALLOWED', undefined, { path });
  if (!CAMPAIGN_ID.test(id)) {
    throw new SwitchboardError('CAMPAIGN_INVALID', 'a campaign id is 1 to 40 letters, digits, _ or -', {
      field: 'id',
    });
  }
  return { id, action };
}

export async function campaignAction(
  store: JournalStore,
  owner: string,
  route: { id: string; action: CampaignAction },
  body: () => Promise<Record<string, unknown>>,
): Promise<Campaign> {
  const { id, action } = route;
  const now = Date.now();
  if (action === 'read') {
    const campaign = await readCampaign(store, id);
    if (campaign === null) throw new SwitchboardError('JOURNAL_NOT_FOUND', `no campaign ${id}`);
    return campaign;
  }
  if (action === 'cancel') return cancelCampaign(store, owner, id, now);
  const fields = await body();
  if (action === 'begin') {
    const { flow, file } = fields;
    if (typeof flow !== 'string' || flow === '' || typeof file !== 'string' || file.length > 200) {
      throw new SwitchboardError('CAMPAIGN_INVALID', 'give the flow and the file name', { field: 'body' });
    }
    return beginCampaign(store, owner, id, flow, file, now);
  }
  return recordProgress(
    store,
    owner,
    id,
    (fields.counts ?? {}) as Record<string, number>,
    fields.done === true,
    now,
  );
}
