// The sync monitor: per user and device the last push and pull, what still waits on the device (as it reported),
// the app version, devices silent for more than 3 days highlighted, and the refused documents with their reasons.
import { h } from '../dom';
import { get } from './api';
import { num, when } from './format';
import { ot } from './i18n';
import type { Screen } from './main';
import { badge, listOf, loadInto, section, str, table } from './ui';

interface Device {
  device?: string;
  user?: string;
  user_id?: string;
  role?: string;
  app_version?: string;
  pending_docs?: number;
  pending_photos?: number;
  last_push?: string | null;
  last_pull?: string | null;
  received_at?: string;
  silent_days?: number;
  silent?: boolean;
  refused?: number;
}

interface Refused {
  _id?: string;
  id?: string;
  doc_id?: string;
  user?: string;
  user_id?: string;
  device?: string;
  reason?: string;
  at?: string;
  received_at?: string;
}

export const syncMonitor: Screen = () => {
  const devices = h('div', {});
  const refused = h('div', {});
  void loadInto(devices, async () => {
    // The combined monitor (B1) when it is there, else the device reports themselves (A1).
    const answer = await get<unknown>('/api/office/sync-monitor').catch(() => get<unknown>('/api/office/devices'));
    const rows = listOf<Device>(answer, 'devices');
    return table(
      [
        { label: ot('sync.user'), cell: (d: Device) => str(d.user_id ?? d.user) },
        { label: ot('sync.device'), cell: (d: Device) => str(d.device) },
        { label: ot('sync.lastPush'), cell: (d: Device) => when(d.last_push) },
        { label: ot('sync.lastPull'), cell: (d: Device) => when(d.last_pull) },
        { label: ot('sync.lastSeen'), cell: (d: Device) => when(d.received_at) },
        { label: ot('sync.pendingDocs'), cell: (d: Device) => num(d.pending_docs), cls: 'num' },
        { label: ot('sync.pendingPhotos'), cell: (d: Device) => num(d.pending_photos), cls: 'num' },
        { label: ot('sync.appVersion'), cell: (d: Device) => str(d.app_version) },
        {
          label: ot('sync.silent'),
          cell: (d: Device) =>
            d.silent ? badge(ot('sync.silentDays', { n: Math.floor(d.silent_days ?? 3) }), 'silent') : '',
        },
      ],
      rows,
      { 'data-table': 'devices' },
      (d) => ({ class: d.silent ? 'silent' : undefined, 'data-silent': d.silent ? 'true' : undefined }),
    );
  });
  void loadInto(refused, async () => {
    const rows = listOf<Refused>(await get<unknown>('/api/office/quarantine?limit=200'));
    return table(
      [
        { label: ot('common.time'), cell: (r: Refused) => when(r.received_at ?? r.at) },
        { label: ot('sync.user'), cell: (r: Refused) => str(r.user_id ?? r.user) },
        { label: ot('sync.device'), cell: (r: Refused) => str(r.device) },
        { label: ot('sync.doc'), cell: (r: Refused) => str(r.doc_id ?? r.id ?? r._id) },
        { label: ot('sync.reason'), cell: (r: Refused) => str(r.reason) },
      ],
      rows,
      { 'data-table': 'quarantine' },
    );
  });
  return h(
    'div',
    { class: 'screen sync-monitor' },
    h('h1', {}, ot('sync.title')),
    section(ot('sync.devices'), devices),
    section(ot('sync.refused'), refused),
  );
};
