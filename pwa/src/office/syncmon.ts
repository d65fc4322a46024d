// The sync monitor: per user and device the last push and pull, what still waits on the device (as it reported),
// the app version, devices silent for more than 3 days highlighted (first those with records or photos still
// waiting on them), and the refused documents with their reasons, the newest 200 and 更早的记录 for the ones before.
// People are shown by name, owners by their shop.
// A phone that can no longer upload hands the office the file of its sync panel (导出未上传的数据, `exportPending`
// in db.ts); the office brings it in here and sees what came of each record, the refused ones first.
import { h } from '../dom';
import { reasonIn } from '../i18n';
import { get, qs, send } from './api';
import { num, when } from './format';
import { label, ot } from './i18n';
import type { Screen } from './main';
import { staffNames } from './people';
import {
  badge,
  button,
  cursorPage,
  type CursorPage,
  field,
  form,
  listOf,
  loadInto,
  PAGE_SIZE,
  pager,
  refresher,
  searchBox,
  section,
  select,
  str,
  submit,
  table,
} from './ui';

/** The most documents the server takes from one file (server/api/device_exports.py). */
export const MAX_EXPORT_DOCS = 5000;

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

/** A member of staff by name, an owner by their shop ("江东生活超市 · 店主", its code when its name is not at hand);
 *  the account's id beside it. */
function who(id: string | null | undefined, person: Person | undefined): HTMLElement {
  const shop = person?.shop ?? (id?.startsWith('owner:') ? id.slice('owner:'.length) : undefined);
  const label = shop ? `${person?.shop_name || shop} · ${ot('people.owner')}` : person?.name || id || '—';
  return h('span', { class: 'who' }, label, id && label !== id ? h('span', { class: 'muted' }, ` ${id}`) : '');
}

function waiting(d: Device): number {
  return (d.pending_docs ?? 0) + (d.pending_photos ?? 0);
}

/** The users of a page; a tap on a heading sorts them only when the whole list is on it (sorting a page of 30,000
 *  rows would only look like sorting them). */
function usersTable(rows: UserRow[], sortable: boolean): HTMLElement {
  const by = <T,>(key: (u: UserRow) => T): ((u: UserRow) => T) | undefined => (sortable ? key : undefined);
  return table(
    [
      { label: ot('sync.user'), cell: (u: UserRow) => who(u.user_id, u), sort: by((u) => u.user_id) },
      {
        label: ot('sync.lastPush'),
        cell: (u: UserRow) => when(u.last_event_at),
        cls: 'nowrap',
        sort: by((u) => (u.last_event_at ? Date.parse(u.last_event_at) : null)),
      },
      {
        label: ot('sync.lastSeen'),
        cell: (u: UserRow) => when(u.last_report_at),
        cls: 'nowrap',
        sort: by((u) => (u.last_report_at ? Date.parse(u.last_report_at) : null)),
      },
      { label: ot('sync.silent'), cell: (u: UserRow) => (u.silent ? badge(ot('sync.silent'), 'silent') : '') },
      { label: ot('sync.refused'), cell: (u: UserRow) => num(u.refused), cls: 'num', sort: by((u) => u.refused) },
      { label: ot('sync.reason'), cell: (u: UserRow) => reasonIn(str(u.last_refused?.reason)) },
    ],
    rows,
    { 'data-table': 'sync-users' },
    (u) => ({ class: u.silent ? 'silent' : undefined, 'data-silent': u.silent ? 'true' : undefined }),
  );
}

function devicesTable(rows: Device[]): HTMLElement {
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
}

/** Counts of every row of the monitor in reach, whatever page or filter was asked for. */
export interface MonitorCounts {
  all?: number;
  silent?: number;
  waiting?: number;
  refused?: number;
  problems?: number;
  seen?: number;
  /** Devices silent with records or photos still on them. */
  silent_waiting?: number;
}

export interface MonitorAnswer {
  devices?: Device[];
  users?: UserRow[];
  limit?: number;
  offset?: { users?: number; devices?: number };
  /** The rows the filters keep, of which `devices` and `users` are a page. */
  total?: { users?: number; devices?: number };
  counts?: { users?: MonitorCounts; devices?: MonitorCounts };
  /** The users of the newest refused documents, by id. */
  people?: Record<string, Person>;
  backup?: BackupStatus;
  projection_failures?: ProjectionFailure[];
}

/** What the screen asks the monitor for: a search, a role, only the problems, and the page of each list. */
export interface MonitorQuery {
  q: string;
  role: '' | 'owner' | 'grid';
  /** Only the rows needing attention; else every device and the users ever seen (as before paging). */
  attention: boolean;
  users: number;
  devices: number;
}

export function monitorPath(query: MonitorQuery): string {
  return `/api/office/sync-monitor${qs({
    only: query.attention ? 'problems' : 'seen',
    role: query.role,
    q: query.q,
    limit: PAGE_SIZE,
    offset: query.users || null,
    devices_offset: query.devices || null,
  })}`;
}

/** "共 N 台设备，…；N 位用户中 M 位超过 3 天未同步": the whole monitor's figures (the rows shown are a page of them),
 *  of the devices and of the users the users table lists (those ever heard from), each counted silent as its rows
 *  are marked (the server's one rule: nothing heard for more than 3 days, a report or an event delivered). */
export function monitorSummary(answer: MonitorAnswer): string {
  const counts = answer.counts?.devices;
  const rows = answer.devices ?? [];
  const silent = rows.filter((d) => d.silent);
  const people = answer.counts?.users;
  const users = (answer.users ?? []).filter((u) => !u.never_seen);
  return ot('sync.summary', {
    devices: num(counts?.all ?? rows.length),
    silent: num(counts?.silent ?? silent.length),
    waiting: num(counts?.silent_waiting ?? silent.filter((d) => waiting(d) > 0).length),
    users: num(people?.seen ?? users.length),
    silentUsers: num(people?.silent ?? users.filter((u) => u.silent).length),
  });
}

/** People by user id, for the lists that name them (the refused documents, a phone's file): the staff's names, the
 *  users of the monitor's page, and those of the newest refused documents the monitor names. */
async function peopleOf(monitor: Promise<MonitorAnswer>): Promise<Map<string, Person>> {
  const [answer, staff] = await Promise.all([
    monitor.catch((): MonitorAnswer => ({})),
    staffNames().catch(() => new Map<string, string>()),
  ]);
  const out = new Map<string, Person>([...staff].map(([id, name]) => [id, { name }]));
  for (const u of listOf<UserRow>(answer.users)) out.set(u.user_id, u);
  for (const d of listOf<Device>(answer.devices)) if (d.user_id && !out.has(d.user_id)) out.set(d.user_id, d);
  for (const [id, person] of Object.entries(answer.people ?? {})) out.set(id, person);
  return out;
}

export type Outcome = 'stored' | 'already' | 'refused';

/** One document of a phone's file as the server answered it. */
export interface ExportItem {
  id?: string | null;
  author?: string | null;
  from?: 'waiting' | 'refused';
  outcome?: Outcome;
  reason?: string;
}

export interface ExportAnswer {
  device?: unknown;
  exported_at?: unknown;
  items?: ExportItem[];
  counts?: Partial<Record<Outcome, number>>;
}

/** Why `parsed` is not a phone's export as the server takes it (an object with a `docs` list, and a `refused` list
 *  if any, holding 1 to 5000 documents in all), or null when it is one. */
export function exportProblem(parsed: unknown): string | null {
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return ot('sync.importNotObject');
  const { docs, refused = [] } = parsed as { docs?: unknown; refused?: unknown };
  if (!Array.isArray(docs) || !Array.isArray(refused)) return ot('sync.importNoDocs');
  const n = docs.length + refused.length;
  if (n === 0) return ot('sync.importEmpty');
  if (n > MAX_EXPORT_DOCS) return ot('sync.importTooMany', { n, max: MAX_EXPORT_DOCS });
  return null;
}

/** The file's text as the object to send; throws with the reason when it is not JSON or not a phone's export. */
export function readExport(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(ot('sync.importNotJson', { reason: err instanceof Error ? err.message : String(err) }));
  }
  const problem = exportProblem(parsed);
  if (problem) throw new Error(problem);
  return parsed as Record<string, unknown>;
}

const OUTCOMES: Outcome[] = ['refused', 'stored', 'already'];

/** The items in the order the office reads them: the refused (to act on), then the stored, then those the server
 *  already had; in the file's order within each. */
export function exportRows(items: readonly ExportItem[]): ExportItem[] {
  const rank = (i: ExportItem): number => {
    const at = OUTCOMES.indexOf(i.outcome as Outcome);
    return at === -1 ? OUTCOMES.length : at;
  };
  return [...items].sort((a, b) => rank(a) - rank(b));
}

/** How many were stored, already there and refused: the server's counts, else counted from its items. */
export function exportCounts(answer: ExportAnswer): Record<Outcome, number> {
  const items = answer.items ?? [];
  const counted = (o: Outcome): number => {
    const given = answer.counts?.[o];
    return typeof given === 'number' ? given : items.filter((i) => i.outcome === o).length;
  };
  return { stored: counted('stored'), already: counted('already'), refused: counted('refused') };
}

function exportResult(answer: ExportAnswer, people: Map<string, Person>): HTMLElement {
  const counts = exportCounts(answer);
  return h(
    'div',
    {
      class: 'export-result',
      'data-export-result': '',
      'data-stored': String(counts.stored),
      'data-already': String(counts.already),
      'data-refused': String(counts.refused),
    },
    h('p', { class: 'export-counts' }, ot('sync.importCounts', counts)),
    h(
      'p',
      { class: 'muted' },
      ot('sync.importFrom', { device: str(answer.device) || '—', at: when(answer.exported_at) }),
    ),
    table(
      [
        { label: ot('sync.doc'), cell: (i: ExportItem) => str(i.id) || '—' },
        { label: ot('sync.author'), cell: (i: ExportItem) => who(i.author, people.get(i.author ?? '')) },
        { label: ot('sync.from'), cell: (i: ExportItem) => label('sync.from', i.from), cls: 'nowrap' },
        {
          label: ot('sync.outcome'),
          cell: (i: ExportItem) => badge(label('sync.outcome', i.outcome), `outcome ${str(i.outcome)}`),
        },
        { label: ot('sync.reason'), cell: (i: ExportItem) => reasonIn(str(i.reason)) },
      ],
      exportRows(answer.items ?? []),
      { 'data-table': 'device-export' },
      (i) => ({ 'data-outcome': i.outcome }),
    ),
  );
}

/** The form bringing in a phone's file: read, checked, sent; then each record's outcome, and `onDone`. */
function importer(people: () => Promise<Map<string, Person>>, onDone: () => void): HTMLElement {
  const file = h('input', { type: 'file', name: 'file', accept: '.json,application/json' });
  const out = h('div', {});
  const f = form(
    { 'data-form': 'device-export' },
    [field(ot('sync.importFile'), file), submit(ot('sync.importStart'))],
    async () => {
      const chosen = file.files?.[0];
      if (!chosen) throw new Error(ot('sync.importNoFile'));
      out.replaceChildren();
      const body = readExport(await chosen.text());
      const answer = await send<ExportAnswer>('POST', '/api/office/device-exports', body);
      out.replaceChildren(exportResult(answer, await people()));
      onDone();
      return ot('sync.importDone', { name: chosen.name });
    },
    ot('sync.importing'),
  );
  return section(ot('sync.import'), h('p', { class: 'muted' }, ot('sync.importNote')), f, out);
}

/** A page of the refused documents, each by its user's name. */
function refusedTable(rows: Refused[], known: Map<string, Person>): HTMLElement {
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
            ? h('span', { 'data-conflict': '' }, badge(ot('sync.conflict'), 'warn'), ' ', reasonIn(str(r.reason)))
            : reasonIn(str(r.reason)),
      },
    ],
    rows,
    { 'data-table': 'quarantine' },
  );
}

/** Refused documents asked for at a time, newest first. */
export const REFUSED_PAGE = 200;

export interface QuarantinePage extends CursorPage<Refused> {
  /** The owners the page names, by their shop (those in the office's reach). */
  people?: Record<string, Person>;
}

export function quarantinePath(before: string | null, limit: number = REFUSED_PAGE): string {
  return `/api/office/quarantine${qs({ limit, before })}`;
}

/** What is said under the refused documents: how many are shown and that there are older ones (the quarantine is
 *  not counted: a sub-district's office's count would read all of it), or, once none are left, how many in all. */
export function refusedLine(shown: number, more: boolean): string {
  if (more) return ot('sync.refusedShown', { n: num(shown) });
  return shown > 0 ? ot('sync.refusedAll', { n: num(shown) }) : '';
}

/** The refused documents, newest first, a page at a time: under them how many are shown and, while the quarantine
 *  holds older ones, 更早的记录, which adds the page before the last one shown below it (the API's `before`). Each is
 *  named by `people`, and an owner also by what the page says of them. */
async function refusedList(people: Promise<Map<string, Person>>): Promise<HTMLElement> {
  const pages = h('div', {});
  const more = h('div', { class: 'row refused-more', 'data-refused-more': '' });
  let shown = 0;
  let failed: HTMLElement | null = null; // an older page that did not come: gone when asked again
  const page = async (before: string | null): Promise<HTMLElement | null> => {
    const owners: Record<string, Person> = {};
    const ask = async (from: string | null, limit: number): Promise<CursorPage<Refused>> => {
      const answer = await get<QuarantinePage>(quarantinePath(from, limit));
      Object.assign(owners, answer.people);
      return { items: listOf<Refused>(answer), next: answer.next ?? null };
    };
    const [found, known] = await Promise.all([cursorPage(ask, before, REFUSED_PAGE), people]);
    for (const [id, person] of Object.entries(owners)) if (!known.has(id)) known.set(id, person);
    shown += found.items.length;
    const next = found.next;
    const older = next
      ? button(
          ot('sync.refusedOlder'),
          async () => {
            failed?.remove();
            const slot = h('div', {});
            pages.append(slot);
            await loadInto(slot, () => page(next));
            failed = slot.querySelector('.error') ? slot : null;
          },
          'secondary',
        )
      : null;
    older?.setAttribute('data-action', 'older-refused');
    const line = refusedLine(shown, next !== null);
    more.replaceChildren(...(line ? [h('span', { class: 'muted', 'data-refused-shown': String(shown) }, line)] : []));
    if (older) more.append(' ', older);
    return before !== null && found.items.length === 0 ? null : refusedTable(found.items, known);
  };
  const first = await page(null);
  if (first) pages.append(first);
  return h('div', {}, pages, more);
}

export interface BackupStatus {
  kind: string;
  last?: { created_at: string; documents: number; blobs: number; bytes: number; folder?: string } | null;
  stale?: boolean;
  /** After how many days without a backup it warns. */
  stale_after_days?: number;
  /** The gateway's own schedule (`mashang serve --backup-to`), or null when backups come from elsewhere (cron). */
  every_hours?: number | null;
  /** The scheduled backup that failed since the last one made. */
  failed?: { at: string; error: string } | null;
}

/** What the monitor says of backups: nothing on CouchDB (its own tools back it up); on the embedded store when the
 *  last one was made, and a warning when none was made for two days (or ever), or the last scheduled one failed. */
export function backupLine(status: BackupStatus | undefined): { text: string; warn: boolean } | null {
  if (!status || status.kind !== 'sqlite') return null;
  const last = status.last;
  const every = status.every_hours ? Number(status.every_hours.toFixed(2)) : null;
  const parts: string[] = [];
  if (status.failed) parts.push(ot('sync.backupFailed', { at: when(status.failed.at), error: status.failed.error }));
  if (!last) parts.push(every ? ot('sync.backupFirst', { hours: every }) : ot('sync.backupNever'));
  else {
    parts.push(ot('sync.backupLast', { at: when(last.created_at), documents: last.documents, photos: last.blobs }));
    if (status.stale) parts.push(ot('sync.backupStale', { days: status.stale_after_days ?? 2 }));
    if (every) parts.push(ot('sync.backupEvery', { hours: every }));
  }
  return { text: parts.join(' '), warn: Boolean(status.failed) || status.stale === true || !last };
}

export interface ProjectionFailure {
  shop: string;
  name?: string | null;
  tries?: number;
  parked?: boolean;
  error?: string;
  at?: string;
}

/** The shops whose points, hazards and alarms the server cannot compute now (their projection fails): each with
 *  why, how often and since when; nothing when there are none. */
export function failuresBlock(failures: ProjectionFailure[]): HTMLElement | null {
  if (failures.length === 0) return null;
  return h(
    'div',
    { class: 'sync-failures', 'data-projection-failures': '', role: 'alert' },
    h('p', { class: 'warn' }, ot('sync.failuresIntro', { n: failures.length })),
    table(
      [
        { label: ot('sync.failureShop'), cell: (f: ProjectionFailure) => `${f.shop} ${f.name ?? ''}`.trim() },
        { label: ot('sync.failureError'), cell: (f: ProjectionFailure) => str(f.error) },
        {
          label: ot('sync.failureTries'),
          cell: (f: ProjectionFailure) =>
            f.parked ? ot('sync.failureParked', { n: f.tries ?? 0 }) : ot('sync.failureRetrying', { n: f.tries ?? 0 }),
        },
        { label: ot('sync.failureAt'), cell: (f: ProjectionFailure) => when(f.at), cls: 'nowrap' },
      ],
      failures,
      { 'data-table': 'projection-failures' },
      (f) => ({ 'data-shop': f.shop }),
    ),
  );
}

export const syncMonitor: Screen = () => {
  const query: MonitorQuery = { q: '', role: '', attention: false, users: 0, devices: 0 };
  const users = h('div', { class: 'paged' });
  const devices = h('div', { class: 'paged' });
  const refused = h('div', {});
  const summary = h('p', { class: 'sync-summary', 'data-summary': '' });
  const backup = h('p', { class: 'sync-backup', 'data-backup': '', role: 'status' });
  const failing = h('div', {});
  const fillDevices = refresher(devices);
  const fillUsers = refresher(users);
  let asked = 0;
  /** The page of both lists the query asks for (a page turned, a search typed on): the latest asked is shown. */
  const refresh = (): Promise<MonitorAnswer> => {
    const mine = ++asked;
    const answer = get<MonitorAnswer>(monitorPath(query));
    void fillDevices(async () => {
      const found = await answer;
      const rows = listOf<Device>(found, 'devices');
      if (mine === asked) summary.textContent = monitorSummary(found);
      const page = {
        offset: found.offset?.devices ?? query.devices,
        limit: found.limit ?? PAGE_SIZE,
        total: found.total?.devices ?? rows.length,
        shown: rows.length,
      };
      return [devicesTable(rows), pager('devices', page, (to) => turn('devices', to))];
    });
    void fillUsers(async () => {
      const found = await answer;
      const rows = listOf<UserRow>(found, 'users');
      const total = found.total?.users ?? rows.length;
      const page = { offset: found.offset?.users ?? query.users, limit: found.limit ?? PAGE_SIZE, total, shown: rows.length };
      return [usersTable(rows, total <= rows.length), pager('users', page, (to) => turn('users', to))];
    });
    return answer;
  };
  const turn = (list: 'users' | 'devices', offset: number): void => {
    query[list] = offset;
    void refresh();
  };
  const narrowed = (): void => {
    query.users = 0;
    query.devices = 0;
    void refresh();
  };
  // Every list of the screen, and the refused documents, the failing shops and the backups beside them.
  const load = (): Promise<MonitorAnswer> => {
    const answer = refresh();
    void loadInto(refused, () => refusedList(peopleOf(answer)));
    void answer
      .then((found) => {
        const block = failuresBlock(listOf<ProjectionFailure>(found, 'projection_failures'));
        failing.replaceChildren(...(block ? [block] : []));
        const line = backupLine(found.backup);
        backup.hidden = line === null;
        backup.textContent = line?.text ?? '';
        backup.dataset.warn = String(line?.warn === true);
      })
      .catch(() => undefined);
    return answer;
  };
  let monitor = load();
  // Thousands of owners: the office finds a person by name or shop, or narrows both lists to those who need a call.
  const search = searchBox('q', ot('sync.search'), (text) => {
    query.q = text;
    narrowed();
  });
  const role = select('role', [['', ot('common.all')], ['grid', ot('sync.gridWorkers')], ['owner', ot('sync.owners')]]);
  role.addEventListener('change', () => {
    query.role = role.value as MonitorQuery['role'];
    narrowed();
  });
  const only = h('input', { type: 'checkbox', name: 'attention' });
  only.addEventListener('change', () => {
    query.attention = only.checked;
    narrowed();
  });
  const filters = h(
    'div',
    { class: 'filters', role: 'search' },
    field(ot('common.search'), search),
    field(ot('sync.role'), role),
    h('label', { class: 'filter' }, only, ` ${ot('sync.attention')}`),
  );
  return h(
    'div',
    { class: 'screen sync-monitor' },
    h('h1', {}, ot('sync.title')),
    summary,
    failing,
    backup,
    filters,
    section(ot('sync.devices'), devices),
    section(ot('sync.refused'), refused),
    importer(
      () => peopleOf(monitor),
      () => {
        monitor = load(); // the figures with the records just brought in
      },
    ),
    section(ot('sync.users'), users),
  );
};
