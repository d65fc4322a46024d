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

interface UserRow {
  user_id: string;
  role?: string;
  name?: string | null;
  last_event_at?: string | null;
  last_report_at?: string | null;
  last_seen?: string | null;
  silent?: boolean;
  never_seen?: boolean;
  refused?: number;
  last_refused?: { reason?: string } | null;
}

function usersTable(rows: UserRow[]): HTMLElement {
  return table(
    [
      { label: ot('sync.user'), cell: (u: UserRow) => `${str(u.name)} (${u.user_id})` },
      { label: ot('sync.lastPush'), cell: (u: UserRow) => when(u.last_event_at) },
      { label: ot('sync.lastSeen'), cell: (u: UserRow) => when(u.last_report_at) },
      { label: ot('sync.silent'), cell: (u: UserRow) => (u.silent ? badge(ot('sync.silent'), 'silent') : '') },
      { label: ot('sync.refused'), cell: (u: UserRow) => num(u.refused), cls: 'num' },
      { label: ot('sync.reason'), cell: (u: UserRow) => str(u.last_refused?.reason) },
    ],
    rows,
    { 'data-table': 'sync-users' },
    (u) => ({ class: u.silent ? 'silent' : undefined, 'data-silent': u.silent ? 'true' : undefined }),
  );
}

export const syncMonitor: Screen = () => {
  const users = h('div', {});
  const devices = h('div', {});
  const refused = h('div', {});
  void loadInto(devices, async () => {
    // The combined monitor (B1) when it is there, else the device reports themselves (A1).
    const answer = await get<unknown>('/api/office/sync-monitor').catch(() => get<unknown>('/api/office/devices'));
    const rows = listOf<Device>(answer, 'devices');
    const people = listOf<UserRow>((answer as { users?: unknown }).users).filter((u) => !u.never_seen);
    users.replaceChildren(usersTable(people));
    return table(
      [
        { label: ot('sync.user'), cell: (d: Device) => str(d.user ?? d.user_id) },
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
    section(ot('sync.user'), users),
    section(ot('sync.refused'), refused),
  );
};
