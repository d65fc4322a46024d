// Shops: the searchable list, and each shop's safety e-file (安全电子档案): details (its 负责人 and phone among them),
// score, the timeline of self-checks, patrols, hazards, rectifications, verifications, alarms, photos and what the
// office did about the shop's black-listed months (黑榜跟进), the point ledger; moving the shop to another grid,
// closing it, and an owner activation code.
import { h, type Child } from '../dom';
import { navigate } from '../router';
import { get, qs, send } from './api';
import { photoThumb } from './photo';
import { num, rankShown, when } from './format';
import { getLang, joinList } from '../i18n';
import { isHazard, NOT_APPLICABLE, type AnswerValue, type TemplateItem } from '../items';
import { label, ot } from './i18n';
import type { Screen } from './main';
import { officePath } from './main';
import { type Names, personName, staffNames } from './people';
import { describeFollowUp, type FollowUpAction } from './ranking';
import { ownerContactReminder } from './registry';
import { badge, button, field, form, input, listOf, loadInto, section, select, str, submit, table } from './ui';
import { contactOf, phoneLink } from '../contact';
import { ledgerNewestFirst, missedWeekDays, overdueWeek, type LedgerLike } from '../owner-ledger';

interface ShopRow {
  code: string;
  name?: string;
  address?: string;
  community?: string;
  community_name?: string;
  grid?: string;
  grid_name?: string;
  status?: string;
  points?: number;
  rank?: number | null;
  open_hazards?: number;
  overdue_hazards?: number;
  /** The earliest rectification deadline of its hazards not closed out (null: none). */
  earliest_deadline?: string | null;
  list?: string | null;
}

const PAGE = 50;
/** `?hazards=`: the shops with a hazard not closed out, or an overdue one (the overview's 逾期未整改隐患 opens the
 *  latter); the server lists them most urgent first. Another value (an old link) is no filter. */
const HAZARD_FILTERS = ['open', 'overdue'];

function hazardFilter(value: string | null): string {
  return HAZARD_FILTERS.includes(value ?? '') ? (value as string) : '';
}

function shopList(query: URLSearchParams): HTMLElement {
  const q = query.get('q') ?? '';
  const status = query.get('status') ?? '';
  const list = query.get('list') ?? '';
  const grid = query.get('grid') ?? '';
  const community = query.get('community') ?? '';
  const hazards = hazardFilter(query.get('hazards'));
  const offset = Number(query.get('offset') ?? '0') || 0;
  const search = input('q', { type: 'search', value: q, placeholder: ot('shops.search') });
  const st = select('status', [['', ot('common.all')], ['active', ot('shops.active')], ['closed', ot('shops.closed')]], status);
  const ls = select('list', [['', ot('common.all')], ['red', ot('ranking.red')], ['black', ot('ranking.black')]], list);
  const hz = select('hazards', [['', ot('common.all')], ['open', ot('shops.withOpenHazards')], ['overdue', ot('shops.withOverdueHazards')]], hazards);
  const go = (off = 0): void =>
    navigate(
      `${officePath('shops')}${qs({ q: search.value.trim(), status: st.value, list: ls.value, hazards: hz.value, grid, community, offset: off || null })}`,
    );
  const f = h('form', { class: 'filters', role: 'search' }, field(ot('common.search'), search), field(ot('common.status'), st),
    field(ot('ranking.list'), ls), field(ot('shops.hazards'), hz),
    h('button', { type: 'submit', class: 'btn' }, ot('common.search')));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    go();
  });
  const box = h('div', {});
  void loadInto(box, async () => {
    const answer = await get<{ items?: ShopRow[]; total?: number }>(
      `/api/office/shops${qs({ q, status, list, hazards, grid, community, limit: PAGE, offset })}`,
    );
    const rows = listOf<ShopRow>(answer, 'shops');
    const total = typeof answer.total === 'number' ? answer.total : rows.length;
    const pager = h('p', { class: 'pager' }, ot('shops.total', { n: total }), ' ',
      offset > 0 ? button(ot('shops.prev'), () => go(Math.max(0, offset - PAGE))) : null, ' ',
      offset + PAGE < total ? button(ot('shops.next'), () => go(offset + PAGE)) : null);
    return [
      // With a hazard filter the server lists the most urgent first, not by code: say so.
      hazards ? h('p', { class: 'muted', 'data-order': 'urgency' }, ot('shops.urgentFirst')) : null,
      table(
        [
          { label: ot('common.code'), cell: (r: ShopRow) => h('a', { href: officePath('shops', r.code) }, r.code) },
          { label: ot('common.name'), cell: (r: ShopRow) => r.name ?? '' },
          { label: ot('common.address'), cell: (r: ShopRow) => r.address ?? '' },
          { label: ot('common.community'), cell: (r: ShopRow) => r.community_name ?? r.community ?? '' },
          { label: ot('common.grid'), cell: (r: ShopRow) => r.grid_name ?? r.grid ?? '' },
          { label: ot('efile.score'), cell: (r: ShopRow) => num(r.points), cls: 'num' },
          { label: ot('efile.rank'), cell: (r: ShopRow) => rankShown(r.status, r.rank), cls: 'num' },
          { label: ot('ranking.openHazards'), cell: (r: ShopRow) => num(r.open_hazards), cls: 'num' },
          { label: ot('shops.overdueHazards'), cell: (r: ShopRow) => num(r.overdue_hazards), cls: 'num' },
          ...(hazards ? [{ label: ot('shops.earliestDeadline'), cell: (r: ShopRow) => r.earliest_deadline ?? '—' }] : []),
          { label: ot('common.status'), cell: (r: ShopRow) => (r.status === 'closed' ? ot('shops.closed') : ot('shops.active')) },
        ],
        rows,
        { 'data-table': 'shops' },
        (r) => ({ 'data-shop': r.code, class: (r.overdue_hazards ?? 0) > 0 ? 'overdue' : undefined }),
      ),
      pager,
    ];
  });
  return h('div', { class: 'screen shops' }, h('h1', {}, ot('shops.title')), f, box);
}

type Doc = Record<string, unknown> & { _id?: string; type?: string };

const TIME_FIELDS = ['at', 'performed_at', 'taken_at', 'found_at', 'created_at', 'at', 'received_at', 'updated_at', 'day'];

export function timeOf(doc: Doc): string {
  for (const k of TIME_FIELDS) if (typeof doc[k] === 'string') return doc[k] as string;
  return '';
}

function photoIds(doc: Doc): string[] {
  const out = new Set<string>();
  const add = (v: unknown): void => {
    if (Array.isArray(v)) for (const p of v) if (typeof p === 'string' && p.includes(':photo:')) out.add(p);
  };
  add(doc.photos);
  if (doc.answers && typeof doc.answers === 'object')
    for (const a of Object.values(doc.answers as Record<string, { photos?: unknown }>)) add(a?.photos);
  if (Array.isArray(doc.findings)) for (const f of doc.findings as { photos?: unknown }[]) add(f.photos);
  if (Array.isArray(doc.items)) for (const i of doc.items as { photos?: unknown }[]) add(i.photos);
  return [...out];
}

function photos(ids: string[]): HTMLElement | null {
  if (ids.length === 0) return null;
  return h(
    'div',
    { class: 'photos' },
    ...ids.map((id) => photoThumb(id, label('kind', 'photo'), { loading: 'lazy' })),
  );
}

/** A ledger entry's note in words: the item it names, or the kind of document it comes from (a refund names the
 *  verification that earned it). */
export function ledgerNote(note: unknown): string {
  const text = str(note);
  const kind = /^[A-Za-z0-9_-]+:([a-z_]+):/.exec(text)?.[1];
  if (kind) return label('kind', kind);
  return text ? label('item', text) : '';
}

/** What a ledger entry was for, in the screen's language: the hazard's item (a refund and a week overdue name the
 *  hazard they follow, by `source`), the week overdue and its deadline, the days of a week without a self-check.
 *  The server's own note for a week overdue ("week 19 past the deadline 2026-07-05") is English for tools, not for
 *  a clerk. `hazards`: the shop's hazards by id. */
export function ledgerDetail(entry: Doc, hazards: ReadonlyMap<string, Doc> = new Map()): string {
  const hazard = hazards.get(str(entry.source));
  const item = hazard?.item ? label('item', hazard.item) : '';
  switch (entry.rule) {
    case 'overdue': {
      const said = /^week (\d+) past the deadline (\S+)$/.exec(str(entry.note));
      const n = overdueWeek({ _id: str(entry._id) }) ?? said?.[1] ?? '?';
      const deadline = str(hazard?.deadline) || said?.[2] || '—';
      const week = ot('efile.ledgerOverdueWeek', { n, deadline });
      return item ? `${item} · ${week}` : week;
    }
    case 'refund':
      return item || ledgerNote(entry.note);
    case 'missed_week': {
      const days = missedWeekDays({ source: str(entry.source) });
      return days ? ot('efile.ledgerWeek', days) : '';
    }
    default:
      return ledgerNote(entry.note);
  }
}

/** A scoring year's part of the ledger: its entries, newest first, and what they add up to. */
export interface LedgerYear {
  year: string;
  entries: Doc[];
  total: number;
}

/** The ledger by scoring year (the calendar year its entries fall in), newest year first. The newest year's total
 *  is the shop's score (its 年度基础分 plus and minus the rest); the years before it are history, not part of it. */
export function ledgerYears(entries: readonly Doc[]): LedgerYear[] {
  const years = new Map<string, Doc[]>();
  for (const entry of entries) {
    const year = str(entry.day).slice(0, 4);
    if (!years.has(year)) years.set(year, []);
    years.get(year)?.push(entry);
  }
  return [...years.entries()]
    .sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0))
    .map(([year, docs]) => ({
      year,
      entries: ledgerNewestFirst(docs as unknown as LedgerLike[]) as unknown as Doc[],
      total: docs.reduce((sum, d) => sum + (Number(d.points) || 0), 0),
    }));
}

/** The e-file's 积分明细: this scoring year's entries under the line of what they add up to (the score shown above),
 *  and each year before folded, with its own total. */
export function ledgerSection(entries: readonly Doc[], hazards: ReadonlyMap<string, Doc>): HTMLElement[] {
  const years = ledgerYears(entries);
  const sign = (n: number): string => `${n > 0 ? '+' : ''}${n}`;
  const yearTable = (year: LedgerYear): HTMLElement =>
    table(
      [
        { label: ot('common.time'), cell: (d: Doc) => str(d.day) || when(timeOf(d)), cls: 'nowrap' },
        { label: ot('efile.rule'), cell: (d: Doc) => label('ledger', d.rule) },
        { label: ot('common.points'), cell: (d: Doc) => sign(Number(d.points)), cls: 'num' },
        { label: ot('common.note'), cell: (d: Doc) => ledgerDetail(d, hazards) },
      ],
      year.entries,
      { 'data-table': 'ledger', 'data-year': year.year },
    );
  const [current, ...earlier] = years;
  if (!current) return [h('p', { class: 'muted empty' }, ot('common.none'))];
  return [
    h('p', { class: 'ledger-total', 'data-ledger-total': String(current.total), 'data-year': current.year },
      ot('efile.ledgerTotal', { year: current.year, total: num(current.total) })),
    yearTable(current),
    ...earlier.map((year) =>
      h('details', { class: 'ledger-earlier', 'data-ledger-year': year.year },
        h('summary', {}, ot('efile.ledgerEarlier', { year: year.year, total: num(year.total) })),
        yearTable(year))),
  ];
}

/** Checklist items by id, from the district's templates: what a check's answers were answers to. */
export type Items = ReadonlyMap<string, TemplateItem>;

let items: Promise<Items> | null = null;

/** The current templates' items, read once per page load (an item a later version dropped is shown by its id). */
export function checklistItems(): Promise<Items> {
  items ??= get<Doc>('/api/office/templates')
    .then((answer) => new Map(listOf<Doc>(answer, 'templates').flatMap((t) => (t.items as TemplateItem[] | undefined) ?? []).map((i) => [i.id, i])))
    .catch((err: unknown) => {
      items = null;
      throw err;
    });
  return items;
}

/** Every answer of a self-check or patrol, question by question, the hazard answers marked: what the owner
 *  declared and what the worker found, which a false self-report's −3 is about. Folded: a check has ten or more. */
export function answersOf(doc: Doc, known: Items): HTMLElement | null {
  const answers = doc.answers && typeof doc.answers === 'object' ? Object.entries(doc.answers as Record<string, Doc>) : [];
  if (answers.length === 0) return null;
  const en = getLang() === 'en';
  const rows = answers.map(([id, answer]) => {
    const value = answer?.value as AnswerValue | null | undefined;
    const item = known.get(id);
    const shown =
      typeof value === 'boolean'
        ? ot(value ? 'efile.yes' : 'efile.no')
        : value === NOT_APPLICABLE
          ? ot('efile.notApplicable')
          : value === null || value === undefined
            ? '—'
            : String(value);
    const hazard = item ? isHazard(item, value) : false;
    return h('li', { 'data-item': id, 'data-hazard-answer': hazard ? '' : undefined, class: hazard ? 'hazard' : undefined },
      item ? (en ? item.label_en : item.label_zh) : label('item', id), `${en ? ': ' : '：'}`, h('span', { class: 'answer' }, shown),
      hazard ? ` ⚠ ${label('item', id)}` : '');
  });
  const problems = rows.filter((r) => r.hasAttribute('data-hazard-answer')).length;
  return h('details', { class: 'answers' },
    h('summary', {}, problems ? ot('efile.answersWithProblems', { n: problems }) : ot('efile.answersAllInOrder')),
    h('ul', {}, ...rows));
}

/** One line of the timeline: what happened, in words, never markup; people by their names. */
export function describe(doc: Doc, names: Names = new Map(), known: Items = new Map()): Child[] {
  const type = str(doc.type);
  const by = personName(names, str(doc.created_by));
  switch (type) {
    case 'self_check':
    case 'patrol': {
      const findings = Array.isArray(doc.findings) ? (doc.findings as Doc[]) : [];
      const answers = doc.answers && typeof doc.answers === 'object' ? Object.keys(doc.answers).length : 0;
      // A self-check's hazards appear as their own entries (the server derives them from the template).
      return [
        `${ot('efile.items', { n: answers })} · ${by}`,
        type === 'patrol' && findings.length === 0 ? ` · ${ot('efile.noFindings')}` : '',
        ...findings.map((f) => h('div', { class: 'finding' }, badge(label('severity', f.severity), `sev ${str(f.severity)}`), ' ',
          label('item', f.item), f.note ? ` · ${str(f.note)}` : '', f.deadline ? ` · ${ot('efile.deadline')} ${str(f.deadline)}` : '')),
        answersOf(doc, known),
      ];
    }
    case 'hazard':
      return [badge(label('severity', doc.severity), `sev ${str(doc.severity)}`), ' ', label('item', doc.item), ' · ',
        badge(label('hazard', doc.status), `hz ${str(doc.status)}`), ` · ${ot('efile.deadline')} ${str(doc.deadline)}`,
        doc.note ? ` · ${str(doc.note)}` : ''];
    case 'rectification':
      return [str(doc.note), ` · ${by}`];
    case 'verification':
      return [doc.passed ? '✔ ' : '✘ ', str(doc.note), ` · ${by}`];
    case 'alarm':
      return [badge(label('status', doc.status), `status ${str(doc.status)}`), ' ',
        Array.isArray(doc.items) ? joinList((doc.items as Doc[]).map((i) => label('item', i.item))) : ''];
    case 'followup':
      return [describeFollowUp(doc as unknown as FollowUpAction & { month?: string }, names)];
    case 'ledger':
      return [`${Number(doc.points) > 0 ? '+' : ''}${str(doc.points)} · ${label('ledger', doc.rule)}`, doc.note ? ` · ${ledgerNote(doc.note)}` : ''];
    default:
      return [str(doc._id)];
  }
}

function timeline(docs: Doc[], names: Names, known: Items): HTMLElement {
  const sorted = [...docs].sort((a, b) => (timeOf(a) < timeOf(b) ? 1 : -1));
  if (sorted.length === 0) return h('p', { class: 'muted empty' }, ot('common.none'));
  return h(
    'ol',
    { class: 'timeline', 'data-timeline': '' },
    ...sorted.map((d) =>
      h('li', { 'data-kind': str(d.type), 'data-id': str(d._id) },
        h('span', { class: 'when' }, when(timeOf(d))),
        h('strong', { class: 'kind' }, label('kind', d.type)),
        h('div', { class: 'what' }, ...describe(d, names, known)),
        photos(photoIds(d)),
      ),
    ),
  );
}

interface EFile {
  shop?: Doc;
  score?: Doc | null;
  timeline?: Doc[];
  events?: Doc[];
  ledger?: Doc[];
  /** The working group in the shop now (进驻中): the latest recorded, whatever month; null: none. */
  working_group?: (FollowUpAction & { month?: string }) | null;
}

/** The e-file's line for a working group in the shop now (carried month to month until its end is recorded). */
export function workingGroupDetail(group: (FollowUpAction & { month?: string }) | null | undefined): HTMLElement | null {
  if (!group || group.status !== 'active') return null;
  const text = ot('efile.workingGroupActive', { day: group.started ?? '—', members: group.members ?? '—', month: group.month ?? '—' });
  return h('div', { 'data-working-group': group.month ?? '' }, h('dt', {}, ot('efile.workingGroup')), h('dd', {}, text));
}

/** The e-file's 负责人 and 联系电话 (the phone a link that dials it), '—' for what is not registered: whom the office
 *  calls in (约谈) about the shop. The registry desk's shop form changes them. */
export function contactDetails(value: unknown): HTMLElement[] {
  const contact = contactOf(value);
  return [
    h('div', { 'data-contact': 'name' }, h('dt', {}, ot('efile.contactName')), h('dd', {}, contact?.name || '—')),
    h('div', { 'data-contact': 'phone' }, h('dt', {}, ot('efile.contactPhone')), h('dd', {}, phoneLink(contact?.phone) ?? '—')),
  ];
}

function efile(code: string): HTMLElement {
  const box = h('div', {});
  const load = (): void => void loadInto(box, async () => {
    const [answer, names, known] = await Promise.all([
      get<EFile>(`/api/office/shops/${encodeURIComponent(code)}/efile`),
      staffNames().catch((): Names => new Map()), // ids, if the names cannot be read
      checklistItems().catch((): Items => new Map()), // answers by item id, if the templates cannot be read
    ]);
    const shop = answer.shop ?? {};
    const score = answer.score ?? {};
    const docs = answer.timeline ?? answer.events ?? [];
    const ledger = answer.ledger ?? docs.filter((d) => d.type === 'ledger');
    const detail = (k: string, v: unknown): HTMLElement => h('div', {}, h('dt', {}, k), h('dd', {}, str(v) || '—'));
    const details = h('dl', { class: 'details', 'data-details': '' },
      detail(ot('common.code'), shop.code ?? code), detail(ot('common.name'), shop.name),
      detail(ot('common.address'), shop.address), detail(ot('common.category'), shop.category ? label('category', shop.category) : null),
      ...contactDetails(shop.contact),
      detail(ot('common.community'), shop.community_name ?? shop.community), detail(ot('common.grid'), shop.grid_name ?? shop.grid),
      detail(ot('common.status'), shop.status === 'closed' ? ot('shops.closed') : ot('shops.active')),
      detail(ot('efile.score'), score.points), h('div', { 'data-rank': '' }, h('dt', {}, ot('efile.rank')), h('dd', {}, rankShown(shop.status, score.rank, score.of))),
      // The month's list while it runs, as the owner's home says it (本月暂列): the published one is the ranking's.
      detail(ot('ranking.list'), score.list && shop.status !== 'closed'
        ? ot('efile.listSoFar', { list: ot(score.list === 'red' ? 'ranking.red' : 'ranking.black') })
        : '—'),
      workingGroupDetail(answer.working_group),
    );
    const grids = await get<unknown>('/api/office/registry/communities')
      .then((a) => listOf<{ name: string; grids?: { code: string; name: string }[] }>(a, 'communities'))
      .catch(() => []);
    const options = grids.flatMap((c) => (c.grids ?? []).map((g) => [g.code, `${c.name} · ${g.name}`] as [string, string]));
    const grid = options.length
      ? select('grid', options, str(shop.grid))
      : input('grid', { required: true, value: str(shop.grid), maxlength: '64' });
    const move = form({ 'data-form': 'move' }, [field(ot('efile.moveTo'), grid), submit(ot('efile.move'))], async (data) => {
      await send('POST', `/api/office/shops/${encodeURIComponent(code)}/move`, { grid: String(data.get('grid') ?? '').trim() });
      return ot('efile.moved');
    });
    const activationOut = h('div', { class: 'activation', role: 'status' });
    const activation = button(ot('efile.activation'), async () => {
      const a = await send<{ code: string; expires_at: string }>('POST', `/api/shops/${encodeURIComponent(code)}/activation`);
      // A code for a shop whose owner had activated: the 负责人 registered may be the previous owner's.
      const change = h('a', { href: `${officePath('registry')}${qs({ section: 'shop', shop: code })}`, 'data-action': 'edit-contact' },
        ot('registry.editContact'));
      activationOut.replaceChildren(h('p', {}, ot('efile.activationCode', { code: a.code, expires: when(a.expires_at) })),
        ownerContactReminder(shop.owner_activated, shop.contact, change) ?? '');
    });
    const close = button(ot('efile.close'), async () => {
      if (!confirm(ot('efile.closeConfirm'))) return;
      await send('POST', `/api/office/shops/${encodeURIComponent(code)}/close`);
      load();
    }, 'danger');
    close.dataset.action = 'close';
    // A shop closed (by mistake, or open again after a refit) is reopened here: it ranks again and its owner signs in
    // again; the grid worker's app tells a worker that the office reopens it.
    const reopen = button(ot('efile.reopen'), async () => {
      if (!confirm(ot('efile.reopenConfirm'))) return;
      await send('POST', `/api/office/shops/${encodeURIComponent(code)}/reopen`);
      load();
    });
    reopen.dataset.action = 'reopen';
    return [
      h('h1', {}, str(shop.name) || code, ' ', h('small', { class: 'muted' }, ot('efile.title'))),
      h('div', { class: 'two-col' },
        section(ot('efile.details'), details),
        // A closed shop's owner gets no activation code (the server refuses one until it is reopened).
        section(ot('efile.move'), move,
          h('div', { class: 'row' }, ...(shop.status === 'closed' ? [reopen] : [activation, close])), activationOut),
      ),
      section(ot('efile.hazards'), table(
        [
          { label: ot('common.time'), cell: (d: Doc) => when(d.found_at) },
          { label: ot('alarms.items'), cell: (d: Doc) => label('item', d.item) },
          { label: ot('common.status'), cell: (d: Doc) => badge(label('hazard', d.status), `hz ${str(d.status)}`) },
          { label: ot('efile.deadline'), cell: (d: Doc) => str(d.deadline) },
          { label: ot('common.note'), cell: (d: Doc) => str(d.note) },
        ],
        docs.filter((d) => d.type === 'hazard' && d.status !== 'closed'),
        { 'data-table': 'open-hazards' },
        (d) => ({ class: d.status === 'overdue' ? 'silent' : undefined }),
      )),
      section(ot('efile.timeline'), timeline(docs.filter((d) => d.type !== 'ledger' && d.type !== 'photo'), names, known)),
      section(ot('efile.photos'), photos(docs.filter((d) => d.type === 'photo').map((d) => str(d._id)).filter((id) => id !== '')) ??
        h('p', { class: 'muted empty' }, ot('common.none'))),
      section(ot('efile.ledger'), ...ledgerSection(ledger, new Map(docs.filter((d) => d.type === 'hazard').map((d) => [str(d._id), d])))),
    ];
  });
  load();
  return h('div', { class: 'screen efile', 'data-shop': code }, h('p', {}, h('a', { href: officePath('shops') }, `← ${ot('common.back')}`)), box);
}

export const shops: Screen = (query, path) => (path[0] ? efile(path[0]) : shopList(query));
