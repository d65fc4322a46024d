// The red/black list (安全生产红黑榜): the current ranking and the monthly snapshots, the working-group flags
// (black-listed again and again → 专班整治), and publishing a month so the public sees it. A district's sub-district
// ranks up to 30,000 shops: each table asks the server for a page, the whole list's with a list and a search.
// The black list's rows say what the office did about each shop (黑榜跟进: 约谈, 专项检查, 专班整治) and record it, and
// whom to call in: the shop's 负责人 and phone (a link that dials it), as the registry holds them.
import { h } from '../dom';
import { contactOf, contactParts, type Contact } from '../contact';
import { navigate } from '../router';
import { shanghaiDay, shiftMonth } from '../ulid';
import { get, qs, send } from './api';
import { FIRST_DAYS } from './exports';
import { num, when } from './format';
import { label, ot } from './i18n';
import type { Screen } from './main';
import { officePath } from './main';
import { personName, staffNames } from './people';
import { chosenOf, listChoices, ownSubdistrict, subdistricts } from './reach';
import type { Column } from './ui';
import type { Names } from './people';
import {
  badge,
  button,
  field,
  form,
  input,
  listOf,
  loadInto,
  PAGE_SIZE,
  pager,
  refresher,
  searchBox,
  section,
  select,
  submit,
  table,
} from './ui';

export type FollowUpKind = 'talk' | 'inspection' | 'working_group';

/** One action the office recorded for a black-listed shop, as the server keeps it. */
export interface FollowUpAction {
  action: FollowUpKind;
  on?: string;
  due?: string;
  status?: 'planned' | 'done' | 'active' | 'ended';
  started?: string;
  ended?: string;
  talked_to?: string;
  by?: string;
  members?: string;
  note?: string;
  recorded_by?: string;
  recorded_at?: string;
  /** A working group recorded in an earlier month and not ended since: the month it was recorded in. */
  month?: string;
  carried?: boolean;
}

/** A shop's follow-up of a month: the latest action of each kind (null: none yet), every action newest first (the
 *  month's own). Its working group may be carried from an earlier month (`carried`, `month`): it stays in the shop
 *  until its end is recorded. */
export interface FollowUp {
  talk?: FollowUpAction | null;
  inspection?: FollowUpAction | null;
  working_group?: FollowUpAction | null;
  actions?: FollowUpAction[];
}

/** The figures of what the office did about a month's black list. */
export interface FollowUpCounts {
  black: number;
  talked: number;
  inspected: number;
  inspection_planned: number;
  working_group: number;
  group_active: number;
  group_ended: number;
  outstanding: number;
  /** Shops off the month's black list whose working group was still there when the month began. */
  off_list?: number;
}

export interface RankRow {
  rank: number;
  shop: string;
  name?: string;
  points: number;
  list?: 'red' | 'black' | null;
  working_group?: boolean;
  open_hazards?: number;
  community?: string;
  /** On the black list: what the office did (null: nothing yet) and what is still to do. Off it: only a working group
   *  still there when the month began, and nothing to do but record its end. */
  followup?: FollowUp | null;
  outstanding?: FollowUpKind[];
  /** The shop's responsible person and phone (null: not registered), on the rows the office follows up only. */
  contact?: Contact | null;
}

/** The counts of the whole month's list, whatever page or filter is shown. */
export interface RankCounts {
  red?: number;
  black?: number;
  none?: number;
  working_group?: number;
}

export interface RankingAnswer {
  month?: string;
  entries?: RankRow[];
  items?: RankRow[];
  /** The shops the filter keeps, of which `entries` is the page at `offset`. */
  total?: number;
  offset?: number;
  limit?: number;
  /** Every shop of the month's list. */
  of?: number;
  counts?: RankCounts;
  followups?: FollowUpCounts;
  working_group?: string[];
  published?: { by?: string; at?: string } | null;
  published_at?: string | null;
  published_by?: string | null;
}

/** Which shops of a month's list a table asks the server for: on a list (`none`: on neither), flagged for a working
 *  group, whose code or name holds `q`. */
export interface RankFilter {
  list?: '' | 'red' | 'black' | 'none';
  working_group?: boolean;
  q?: string;
}

function shopCell(r: RankRow): HTMLElement {
  return h(
    'span',
    {},
    h('a', { href: officePath('shops', r.shop) }, r.name || r.shop),
    ' ',
    h('small', { class: 'muted' }, r.shop),
    r.working_group ? ' ' : null,
    r.working_group ? badge(ot('ranking.workingGroup'), 'wg') : null,
  );
}

/** A followed-up row's 负责人 and phone, the phone a link that dials it; 未登记 when the registry has neither. */
export function contactCell(r: RankRow): HTMLElement {
  const contact = contactOf(r.contact);
  if (!contact) return h('span', { class: 'muted', 'data-contact': r.shop }, ot('ranking.noContact'));
  return h('span', { 'data-contact': r.shop }, ...contactParts(contact, ' '));
}

/** `withList`: a column saying which list a shop is on (not in the red list's and black list's own tables); in the
 *  working group's table a shop on neither says so (未上榜: flagged, or with a group still there, off the lists);
 *  `follow`: columns of whom to call in and what was done about a black-listed shop (the black list's and working
 *  group's tables). */
function rankTable(rows: RankRow[], attr: string, withList = true, follow?: (r: RankRow) => HTMLElement | string): HTMLElement {
  const neither = attr === 'working-group' ? ot('ranking.none') : '';
  const columns: Column<RankRow>[] = [
    { label: ot('ranking.rank'), cell: (r: RankRow) => num(r.rank), cls: 'num' },
    { label: ot('common.shop'), cell: shopCell },
    { label: ot('efile.score'), cell: (r: RankRow) => num(r.points), cls: 'num' },
    { label: ot('ranking.openHazards'), cell: (r: RankRow) => num(r.open_hazards), cls: 'num' },
  ];
  if (withList) {
    columns.push({
      label: ot('ranking.list'),
      cell: (r: RankRow) =>
        r.list ? badge(ot(r.list === 'red' ? 'ranking.red' : 'ranking.black'), `list ${r.list}`) : neither,
    });
  }
  if (follow) columns.push({ label: ot('ranking.contact'), cell: contactCell }, { label: ot('followup.column'), cell: follow });
  return table(columns, rows, { 'data-ranking': attr }, (r) => ({ 'data-shop': r.shop }));
}

/** The ranking screen's calls for the sub-district chosen (null: none named; with one sub-district the server takes
 *  it, a sub-district's office is held to its own), and its own path for a month and that choice. A month's list is
 *  asked for a page at a time (a district's sub-district ranks up to 30,000 shops). */
export function rankingCalls(subdistrict: string | null): {
  months: string;
  month: (month: string, filter?: RankFilter, offset?: number) => string;
  publish: (month: string) => string;
  followup: (month: string, shop: string) => string;
  path: (month: string) => string;
} {
  return {
    months: `/api/office/rankings${qs({ subdistrict })}`,
    month: (month, filter = {}, offset = 0) =>
      `/api/office/ranking${qs({
        month,
        subdistrict,
        list: filter.list,
        working_group: filter.working_group ? 1 : null,
        q: filter.q,
        limit: PAGE_SIZE,
        offset: offset || null,
      })}`,
    publish: (month) => `/api/office/rankings/${encodeURIComponent(month)}/publish${qs({ subdistrict })}`,
    followup: (month, shop) =>
      `/api/office/rankings/${encodeURIComponent(month)}/followups/${encodeURIComponent(shop)}`,
    path: (month) => `${officePath('ranking')}${qs({ month, subdistrict })}`,
  };
}

/** The month's figures above its lists: how many shops it ranks, how many on each list and for a working group. */
export function rankCounts(answer: RankingAnswer): HTMLElement {
  const c = answer.counts ?? {};
  const of = answer.of ?? answer.total ?? 0;
  return h(
    'p',
    {
      class: 'ranking-counts',
      'data-ranking-counts': '',
      'data-of': String(of),
      'data-red': String(c.red ?? 0),
      'data-black': String(c.black ?? 0),
      'data-working-group': String(c.working_group ?? 0),
    },
    ot('ranking.counts', { of: num(of), red: num(c.red ?? 0), black: num(c.black ?? 0), group: num(c.working_group ?? 0) }),
    // The two lists have one size (server/validators/ranking.py `rank_shops`): an empty one, or two of different
    // lengths, is a tie at a list's cut, which no list splits (on 1 January, or in a new sub-district, every shop
    // has the same points): said, or 红榜 暂无 reads as a fault.
    // Fewer than 2 shops: the lists' size is 0 (never more than half the shops), no tie to tell of.
    of >= 2 && ((c.red ?? 0) === 0 || (c.black ?? 0) === 0 || c.red !== c.black)
      ? h('span', { class: 'muted', 'data-ties-left-off': '' }, ' ', ot('ranking.tiesLeftOff'))
      : null,
  );
}

/** One table of the month's list, a page at a time from the server, with its pager; `filter` is read at each load
 *  (the whole list's table has its own filters). `load` answers whether it showed the page (false: the server's
 *  reason is shown instead, or a newer load took its place). */
function pagedRanking(
  attr: string,
  withList: boolean,
  ask: (filter: RankFilter, offset: number) => Promise<RankingAnswer>,
  filter: () => RankFilter,
  follow?: (r: RankRow) => HTMLElement | string,
): { el: HTMLElement; load: (offset?: number, answered?: RankingAnswer) => Promise<boolean> } {
  const el = h('div', { class: 'paged' });
  const fill = refresher(el);
  /** `answered`: the page asked for already. */
  const load = (offset = 0, answered?: RankingAnswer): Promise<boolean> =>
    fill(async () => {
      const answer = answered ?? (await ask(filter(), offset));
      const rows = answer.entries ?? answer.items ?? [];
      const flagged = new Set(answer.working_group ?? []);
      for (const r of rows) if (flagged.has(r.shop)) r.working_group = true;
      const page = { offset: answer.offset ?? offset, limit: answer.limit ?? PAGE_SIZE, total: answer.total ?? rows.length, shown: rows.length };
      return [rankTable(rows, attr, withList, follow), pager(attr, page, (to) => void load(to))];
    });
  return { el, load };
}

// ----- what the office did about the black list (黑榜跟进) -----

/** "11-05" of "2026-11-05": the month is the list's own. */
const monthDay = (day: string | undefined): string => (day ?? '').slice(5) || '—';

/** "黑榜 12 家：已约谈 9，已专项检查 7，……，尚有 4 家待跟进" above the lists. */
/** A month with a snapshot, as `/api/office/rankings` lists them. */
export interface MonthListed {
  month: string;
  published?: { by?: string; at?: string } | null;
}

/** The month the ranking screen opens on: the newest snapshot, but last month's while this month's is the newest
 *  and last month's is not published yet, or published in this month's first `FIRST_DAYS` days. On the 1st the new
 *  month's list is a copy of the last one's standings, still moving; the month just ended is the one to publish,
 *  and then to follow up (约谈, 专项检查), which the office records in the days after. `months`: newest first. */
export function defaultMonth(months: readonly MonthListed[], today: string): string {
  const [newest, before] = months;
  if (!newest) return '';
  const firstDays = Number(today.slice(8, 10)) <= FIRST_DAYS;
  return newest.month === today.slice(0, 7) && before && (!before.published || firstDays) ? before.month : newest.month;
}

/** Whether a month's list may be published: once the month has ended (`today`: the day in Shanghai). The month still
 *  running moves with the scores, and a month is published once: published early, its own list never could be. */
export function monthEnded(month: string, today: string): boolean {
  return month < today.slice(0, 7);
}

/** "2027-01-01" of "2026-12": the day a month's list may be published from. */
export function publishableFrom(month: string): string {
  return `${shiftMonth(month, 1)}-01`;
}

export function followupCounts(c: FollowUpCounts): HTMLElement {
  let text = ot('followup.counts', { black: num(c.black), talked: num(c.talked), inspected: num(c.inspected) });
  if (c.inspection_planned) text += ot('followup.countsPlanned', { planned: num(c.inspection_planned) });
  if (c.working_group) {
    text += ot('followup.countsGroup', { group: num(c.working_group), active: num(c.group_active), ended: num(c.group_ended) });
  }
  text += c.outstanding ? ot('followup.countsOutstanding', { n: num(c.outstanding) }) : ot('followup.countsDone');
  if (c.off_list) text += ot('followup.countsOffList', { n: num(c.off_list) });
  return h(
    'p',
    {
      class: 'followup-counts',
      'data-followups-counts': '',
      'data-black': String(c.black),
      'data-talked': String(c.talked),
      'data-inspected': String(c.inspected),
      'data-outstanding': String(c.outstanding),
      'data-off-list': String(c.off_list ?? 0),
    },
    text,
  );
}

/** What was done about a black-listed shop, in a few words each: 已约谈 11-05 · 专项检查待完成（11-20 前） · 专班整治进驻中.
 *  A shop off the list (`offList`) is asked for no talk nor inspection: 已出黑榜 and its working group, one still
 *  there or, flagged for one (`flagged`), 专班整治未组建 until it is recorded. */
export function followupParts(f: FollowUp | null | undefined, flagged: boolean, offList = false): string[] {
  const talk = f?.talk;
  const inspection = f?.inspection;
  const group = f?.working_group;
  if (offList) {
    if (group) return [ot('followup.offList'), groupPart(group)];
    return flagged ? [ot('followup.offList'), ot('followup.noGroup')] : [ot('followup.offList')];
  }
  const parts = [talk ? ot('followup.talked', { day: monthDay(talk.on) }) : ot('followup.noTalk')];
  if (!inspection) parts.push(ot('followup.noInspection'));
  else if (inspection.status === 'done') parts.push(ot('followup.inspected', { day: monthDay(inspection.on) }));
  else parts.push(ot('followup.planned', { day: monthDay(inspection.due) }));
  if (flagged || group) parts.push(group ? groupPart(group) : ot('followup.noGroup'));
  return parts;
}

/** A working group in a few words: one carried from an earlier month, or ended on a later month's day, in full
 *  days (they are not the list's month). */
function groupPart(group: FollowUpAction): string {
  if (group.status === 'ended') return ot('followup.groupEnded', { day: group.carried ? group.ended ?? '—' : monthDay(group.ended) });
  if (group.carried) return ot('followup.groupCarried', { day: group.started ?? '—', month: group.month ?? '—' });
  return ot('followup.groupActive', { day: monthDay(group.started) });
}

/** One recorded action in words, for the shop's e-file: 约谈 · 2026-11 · 2026-11-05 · 店主王某 · 安监所张丽 · 备注 · 张丽 记录于 …. */
export function describeFollowUp(a: FollowUpAction & { month?: string }, names: Names = new Map()): string {
  const status = a.status ? label('followup.status', a.status) : '';
  const days =
    a.action === 'working_group' ? [a.started, a.ended].filter(Boolean).join(' – ') : a.status === 'planned' ? `${ot('followup.due')} ${a.due ?? ''}` : a.on;
  const parts = [label('followup.action', a.action), a.month, status, days, a.talked_to, a.by, a.members, a.note];
  const recorded = a.recorded_by ? ot('followup.recordedBy', { by: personName(names, a.recorded_by), at: when(a.recorded_at) }) : '';
  return [...parts, recorded].filter((p) => typeof p === 'string' && p !== '').join(' · ');
}

/** A black-listed row's follow-up: what was done (the hooks say it too) and 记录跟进, which opens the form in a row
 *  of its own under the shop's; `saved` draws the month again once the server has it. A row off the black list
 *  with a working group still there offers 记录专班结束 while the group is in the shop, and nothing once it ended;
 *  one flagged for a working group without one offers 记录专班 (the flag is reason enough for a group). */
function followupCell(r: RankRow, path: string, saved: () => void): HTMLElement {
  const f = r.followup;
  const offList = r.list !== 'black';
  const ends = offList && f?.working_group?.status === 'active';
  const starts = offList && Boolean(r.working_group) && !f?.working_group;
  const open = offList && !ends && !starts
    ? null
    : h(
        'button',
        { type: 'button', class: 'link', 'data-action': 'followup' },
        ot(ends ? 'followup.recordEnd' : starts ? 'followup.recordGroup' : 'followup.record'),
      );
  const cell = h(
    'div',
    {
      class: 'followup',
      'data-followup': r.shop,
      'data-talked': f?.talk ? 'true' : 'false',
      'data-inspection': f?.inspection?.status ?? 'none',
      'data-group': f?.working_group?.status ?? (r.working_group ? 'none' : undefined),
      'data-group-since': f?.working_group?.carried ? f.working_group.month : undefined,
      'data-outstanding': String((r.outstanding ?? []).length),
      'data-off-list': offList ? 'true' : undefined,
      title: f?.working_group?.carried ? ot('followup.groupCarriedTitle', { month: f.working_group.month ?? '—' }) : undefined,
    },
    h('span', { class: 'followup-done' }, followupParts(f, Boolean(r.working_group), offList).join(' · ')),
    open ? ' ' : null,
    open,
  );
  open?.addEventListener('click', () => {
    const row = cell.closest('tr');
    const next = row?.nextElementSibling;
    if (next?.classList.contains('followup-row')) {
      next.remove();
      return;
    }
    const width = String(row?.children.length ?? 1);
    const added = h('tr', { class: 'followup-row' }, h('td', { colspan: width }, followupForm(r, path, saved)));
    row?.after(added);
    added.querySelector<HTMLInputElement>('input[name=talked_to]')?.focus();
  });
  return cell;
}

/** The form recording one action for a black-listed shop: a talk, a special inspection (done on a day, or planned
 *  with a due day) or, for a shop flagged for one or with one in the shop, a working group: on site, or, the one in
 *  the shop (the month's or carried from an earlier month), finished on a day, its start and members as recorded.
 *  A shop off the black list: only the end of the working group in the shop, or, flagged without one, a working
 *  group alone. */
function followupForm(r: RankRow, path: string, saved: () => void): HTMLFormElement {
  const today = shanghaiDay();
  const offList = r.list !== 'black';
  const kinds: [string, string][] = offList
    ? []
    : [
        ['talk', ot('followup.action.talk')],
        ['inspection', ot('followup.action.inspection')],
      ];
  const group = r.followup?.working_group;
  const inPlace = group?.status === 'active' ? group : null;
  if (r.working_group || group) kinds.push(['working_group', ot('followup.action.working_group')]);
  const action = select('action', kinds, kinds[0]![0]);
  const fields = h('div', { class: 'followup-fields' });
  const day = (name: string, value = today): HTMLInputElement => input(name, { type: 'date', value, max: today, required: true });
  const text = (name: string): HTMLInputElement => input(name, { maxlength: '200', required: true });
  // Whom the office talks to is, most often, the shop's registered 负责人: offered, and changed when it was another.
  const talkedTo = (): HTMLInputElement => {
    const el = text('talked_to');
    el.value = contactOf(r.contact)?.name ?? '';
    return el;
  };
  const note = (): HTMLInputElement => input('note', { maxlength: '500' });
  const members = (): HTMLInputElement => {
    const el = text('members');
    el.value = inPlace?.members ?? '';
    return el;
  };
  const drawFields = (): void => {
    if (action.value === 'talk') {
      fields.replaceChildren(
        field(ot('followup.on'), day('on')),
        field(ot('followup.talkedTo'), talkedTo()),
        field(ot('followup.talkBy'), text('by')),
        field(ot('followup.note'), note()),
      );
      return;
    }
    const statuses: [string, string][] =
      action.value === 'inspection'
        ? [['done', ot('followup.status.done')], ['planned', ot('followup.status.planned')]]
        : offList && inPlace
          ? [['ended', ot('followup.status.ended')]]
          : inPlace
            ? [['ended', ot('followup.status.ended')], ['active', ot('followup.status.active')]]
            : [['active', ot('followup.status.active')], ['ended', ot('followup.status.ended')]]; // ended: one that came and went
    const status = select('status', statuses, statuses[0]![0]);
    // The day that goes with the status: done on / due by; a working group's end once it has ended.
    const [first, second] =
      action.value === 'inspection'
        ? [field(ot('followup.on'), day('on')), field(ot('followup.due'), input('due', { type: 'date', min: today, required: true }))]
        : [field(ot('followup.started'), day('started', inPlace?.started ?? today)), field(ot('followup.ended'), day('ended'))];
    const shown = (): void => {
      const later = status.value === 'planned' || status.value === 'ended';
      if (action.value === 'inspection') first.hidden = later;
      second.hidden = !later;
      for (const el of [first, second]) for (const i of el.querySelectorAll('input')) i.disabled = el.hidden === true;
    };
    status.addEventListener('change', shown);
    fields.replaceChildren(
      field(ot('followup.status'), status),
      first,
      second,
      action.value === 'inspection' ? field(ot('followup.inspectedBy'), text('by')) : field(ot('followup.members'), members()),
      field(action.value === 'inspection' ? ot('followup.result') : ot('followup.note'), note()),
    );
    shown();
  };
  action.addEventListener('change', drawFields);
  drawFields();
  return form(
    { 'data-form': 'followup', 'data-shop': r.shop, class: 'office-form followup-form' },
    [field(ot('followup.action'), action), fields, submit(ot('common.save'))],
    async (data) => {
      // What the form holds and is not disabled, without the empty (an optional note, a day not asked for).
      const body: Record<string, string> = {};
      for (const [key, value] of data.entries()) if (typeof value === 'string' && value.trim() !== '') body[key] = value.trim();
      await send('POST', path, body);
      saved();
    },
  );
}

/** Why the screen opened on `month` and not on the newest list (`months`, newest first): last month's, to publish,
 *  or published and followed up in this month's first days; null when it opened on the newest. */
export function lastMonthLine(month: string, months: readonly string[], published: boolean): HTMLElement | null {
  if (month === '' || month === months[0]) return null;
  return h('p', { class: 'muted', 'data-last-month': month },
    ot(published ? 'ranking.lastMonthFollowUp' : 'ranking.lastMonthFirst', { month, current: months[0] ?? '', days: FIRST_DAYS }));
}

export const ranking: Screen = (query) => {
  const asked = query.get('month') ?? '';
  const own = ownSubdistrict();
  const picker = h('div', { class: 'filters' });
  const body = h('div', {});
  // A month published from this screen: the line beside the month says so too (it said 尚未发布), or, past the
  // month's first days, when no follow-up keeps it first, goes.
  let onPublished: (month: string) => void = () => undefined;
  /** `name`: the sub-district chosen, by name (null: no choice offered). */
  const draw = (month: string, calls: ReturnType<typeof rankingCalls>, name: string | null): void => {
    const ask = (filter: RankFilter, offset: number): Promise<RankingAnswer> => get<RankingAnswer>(calls.month(month, filter, offset));
    const head = h('div', {});
    // The whole list's table: a list and a search, read when it loads.
    const list = select('list', [['', ot('common.all')], ['red', ot('ranking.red')], ['black', ot('ranking.black')], ['none', ot('ranking.none')]]);
    let q = '';
    const all = pagedRanking('all', true, ask, () => ({ list: list.value as RankFilter['list'], q }));
    const search = searchBox('q', ot('ranking.search'), (text) => {
      q = text;
      void all.load(0);
    });
    list.addEventListener('change', () => void all.load(0));
    const red = pagedRanking('red', false, ask, () => ({ list: 'red' }));
    // A follow-up recorded: the month again, its figures and rows with it.
    // A black-listed shop, or one off the list flagged for a working group or with one still there (the working
    // groups' table).
    const follow = (r: RankRow): HTMLElement | string =>
      r.list === 'black' || r.working_group || r.followup?.working_group
        ? followupCell(r, calls.followup(month, r.shop), () => draw(month, calls, name))
        : '';
    const black = pagedRanking('black', false, ask, () => ({ list: 'black' }), follow);
    const group = pagedRanking('working-group', true, ask, () => ({ working_group: true }), follow);
    const whole = section(
      [ot('ranking.title'), name, month].filter(Boolean).join(' · '),
      h('div', { class: 'filters', role: 'search' }, field(ot('common.search'), search), field(ot('ranking.list'), list)),
      all.el,
    );
    // The month's publication and figures come with any page of it: the first page of the red list tells them, or
    // why there is no list (a month without a snapshot), alone on the screen; then the other tables are asked for.
    let reds: RankingAnswer | undefined;
    void refresher(head)(async () => {
      const [answer, names] = await Promise.all([
        ask({ list: 'red' }, 0),
        staffNames().catch(() => new Map<string, string>()),
      ]);
      reds = answer;
      const shown = answer.month ?? month;
      const publishedBy = answer.published?.by ?? answer.published_by;
      const publishedAt = answer.published?.at ?? answer.published_at;
      const publish = button(ot('ranking.publish'), async () => {
        const asking = name === null
          ? ot('ranking.publishConfirm', { month: shown })
          : ot('ranking.publishConfirmIn', { name, month: shown });
        if (!confirm(asking)) return;
        await send('POST', calls.publish(shown));
        onPublished(shown);
        draw(shown, calls, name);
      }, 'primary');
      publish.dataset.action = 'publish';
      const ended = monthEnded(shown, shanghaiDay());
      return [
        h(
          'p',
          { class: 'published', 'data-published': publishedAt ? 'true' : 'false' },
          publishedAt ? ot('ranking.published', { at: when(publishedAt), by: personName(names, publishedBy) }) : ot('ranking.notPublished'),
          ' ',
          publishedAt ? null : ended ? publish : null,
        ),
        // The month still running: no publishing until it has ended (the server refuses it too), said why.
        publishedAt || ended
          ? null
          : h('p', { class: 'muted', 'data-not-ended': shown }, ot('ranking.notEnded', { month: shown, from: publishableFrom(shown) })),
        rankCounts(answer),
        answer.followups && (answer.followups.black > 0 || (answer.followups.off_list ?? 0) > 0) ? followupCounts(answer.followups) : null,
      ];
    }).then((drawn) => {
      if (!drawn) return;
      const shown = reds?.month ?? month;
      body.append(
        h('div', { class: 'two-col lists' }, section(ot('ranking.red'), red.el), section(ot('ranking.black'), black.el)),
        // The month still running flags the shops its last month flagged (its own lists count once it has ended).
        section(
          ot('ranking.workingGroup'),
          shown.slice(0, 7) === shanghaiDay().slice(0, 7)
            ? h('p', { class: 'muted', 'data-group-basis': 'last-month' }, ot('ranking.groupBasis'))
            : null,
          group.el,
        ),
        whole,
      );
      void red.load(0, reds);
      void black.load(0);
      void group.load(0);
      void all.load(0);
    });
    body.replaceChildren(head);
  };
  // The district's office of several sub-districts chooses one (the first unless the path names another; a month
  // changed keeps it). The months with a snapshot, newest first; without a month asked for, `defaultMonth`'s.
  void loadInto(picker, async () => {
    const choices = listChoices(own === null ? await subdistricts().catch(() => []) : [], own);
    const subdistrict = chosenOf(query.get('subdistrict'), choices);
    const calls = rankingCalls(subdistrict);
    const answer = await get<unknown>(calls.months);
    const listed = listOf<string | MonthListed>(answer, 'months').map((m) => (typeof m === 'string' ? { month: m } : m));
    const months = listed.map((m) => m.month);
    const fallback = defaultMonth(listed, shanghaiDay());
    const month = asked || fallback;
    const s = select('month', months.map((m) => [m, m] as [string, string]), month);
    s.addEventListener('change', () => navigate(calls.path(s.value)));
    const name = choices.find(([code]) => code === subdistrict)?.[1] ?? null;
    if (months.length > 0 || asked) draw(month, calls, name);
    else body.replaceChildren(h('p', { class: 'muted empty' }, ot('common.none')));
    // Opened on last month's list, not the newest: say why, and where this month's is.
    const published = Boolean(listed.find((m) => m.month === month)?.published);
    let why = asked ? null : lastMonthLine(month, months, published);
    onPublished = (done) => {
      if (!why || done !== month) return;
      const firstDays = Number(shanghaiDay().slice(8, 10)) <= FIRST_DAYS;
      const now = firstDays ? lastMonthLine(month, months, true) : null;
      if (now) why.replaceWith(now);
      else why.remove();
      why = now;
    };
    if (subdistrict === null) return [field(ot('ranking.month'), s), why];
    const sd = select('subdistrict', choices, subdistrict);
    // Another sub-district: its own newest month (its months are its own).
    sd.addEventListener('change', () => navigate(rankingCalls(sd.value).path('')));
    return [field(ot('reach.choose'), sd), field(ot('ranking.month'), s), why];
  });
  return h('div', { class: 'screen ranking' }, h('h1', {}, ot('ranking.title')), picker, body);
};
