// The sync monitor: per user and device the last push and pull, what still waits on the device (as it reported),
// the app version, devices silent for more than 3 days highlighted (first those with records or photos still
// waiting on them), and the refused documents with their reasons. People are shown by name, owners by their shop.
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
  name?: string | null;
  shop?: string;
  shop_name?: string | null;
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
  /** `refused`, or `conflict`: an event stored with two bodies (two gateways took them at once), not a refusal. */
  type?: string;
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
  shop?: string;
  shop_name?: string | null;
  last_event_at?: string | null;
  last_report_at?: string | null;
  last_seen?: string | null;
  silent?: boolean;
  never_seen?: boolean;
  refused?: number;
  last_refused?: { reason?: string } | null;
}

interface Person {
  name?: string | null;
  shop?: string;
  shop_name?: string | null;
}

/** A member of staff by name, an owner by their shop ("江东生活超市 · 店主"); the account's id beside it. */
function who(id: string | null | undefined, person: Person | undefined): HTMLElement {
  const label = person?.shop
    ? `${person.shop_name || person.shop} · ${ot('people.owner')}`
    : person?.name || id || '—';
  return h('span', { class: 'who' }, label, id && label !== id ? h('span', { class: 'muted' }, ` ${id}`) : '');
}

function waiting(d: Device): number {
  return (d.pending_docs ?? 0) + (d.pending_photos ?? 0);
}

function usersTable(rows: UserRow[]): HTMLElement {
  return table(
    [
      { label: ot('sync.user'), cell: (u: UserRow) => who(u.user_id, u), sort: (u) => u.user_id },
      {
        label: ot('sync.lastPush'),
        cell: (u: UserRow) => when(u.last_event_at),
        cls: 'nowrap',
        sort: (u) => (u.last_event_at ? Date.parse(u.last_event_at) : null),
      },
      {
        label: ot('sync.lastSeen'),
        cell: (u: UserRow) => when(u.last_report_at),
        cls: 'nowrap',
        sort: (u) => (u.last_report_at ? Date.parse(u.last_report_at) : null),
      },
      { label: ot('sync.silent'), cell: (u: UserRow) => (u.silent ? badge(ot('sync.silent'), 'silent') : '') },
      { label: ot('sync.refused'), cell: (u: UserRow) => num(u.refused), cls: 'num', sort: (u) => u.refused },
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
  const summary = h('p', { class: 'sync-summary', 'data-summary': '' });
  const monitor = get<unknown>('/api/office/sync-monitor');
  void loadInto(devices, async () => {
    const answer = await monitor;
    const rows = listOf<Device>(answer, 'devices');
    const people = listOf<UserRow>((answer as { users?: unknown }).users).filter((u) => !u.never_seen);
    // Hundreds of owners: the office can narrow the list to those who need a call.
    const only = h('input', { type: 'checkbox', name: 'attention' });
    const list = h('div', {});
    const show = (): void => {
      list.replaceChildren(usersTable(only.checked ? people.filter((u) => u.silent || (u.refused ?? 0) > 0) : people));
    };
    only.addEventListener('change', show);
    show();
    users.replaceChildren(h('label', { class: 'filter' }, only, ` ${ot('sync.attention')}`), list);
    const silent = rows.filter((d) => d.silent);
    summary.textContent = ot('sync.summary', {
      devices: rows.length,
      silent: silent.length,
      waiting: silent.filter((d) => waiting(d) > 0).length,
    });
    return table(
      [
        { label: ot('sync.user'), cell: (d: Device) => who(d.user_id ?? d.user, d) },
        { label: ot('sync.device'), cell: (d: Device) => str(d.device), cls: 'nowrap' },
        { label: ot('sync.lastPush'), cell: (d: Device) => when(d.last_push), cls: 'nowrap' },
        { label: ot('sync.lastPull'), cell: (d: Device) => when(d.last_pull), cls: 'nowrap' },
        { label: ot('sync.lastSeen'), cell: (d: Device) => when(d.received_at), cls: 'nowrap' },
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
      (d) => ({
        class: d.silent ? (waiting(d) > 0 ? 'silent waiting' : 'silent') : undefined,
        'data-silent': d.silent ? 'true' : undefined,
      }),
    );
  });
  void loadInto(refused, async () => {
    const [rows, people] = await Promise.all([
      get<unknown>('/api/office/quarantine?limit=200').then((answer) => listOf<Refused>(answer)),
      monitor.then((answer) => listOf<UserRow>((answer as { users?: unknown }).users)).catch(() => []),
    ]);
    const known = new Map(people.map((u) => [u.user_id, u]));
    return table(
      [
        { label: ot('common.time'), cell: (r: Refused) => when(r.received_at ?? r.at), cls: 'nowrap' },
        {
          label: ot('sync.user'),
          cell: (r: Refused) => {
            const id = r.user_id ?? r.user;
            return who(id, known.get(id ?? ''));
          },
        },
        { label: ot('sync.device'), cell: (r: Refused) => str(r.device), cls: 'nowrap' },
        { label: ot('sync.doc'), cell: (r: Refused) => str(r.doc_id ?? r.id ?? r._id) },
        {
          label: ot('sync.reason'),
          cell: (r: Refused) =>
            r.type === 'conflict'
              ? h('span', { 'data-conflict': '' }, badge(ot('sync.conflict'), 'warn'), ' ', str(r.reason))
              : str(r.reason),
        },
      ],
      rows,
      { 'data-table': 'quarantine' },
    );
  });
  return h(
    'div',
    { class: 'screen sync-monitor' },
    h('h1', {}, ot('sync.title')),
    summary,
    section(ot('sync.devices'), devices),
    section(ot('sync.refused'), refused),
    section(ot('sync.users'), users),
  );
};
