// The red/black list (安全生产红黑榜): the current ranking and the monthly snapshots, the working-group flags
// (black-listed again and again → 专班整治), and publishing a month so the public sees it. A district's sub-district
// ranks up to 30,000 shops: each table asks the server for a page, the whole list's with a list and a search.
import { h } from '../dom';
import { navigate } from '../router';
import { get, qs, send } from './api';
import { num, when } from './format';
import { ot } from './i18n';
import type { Screen } from './main';
import { officePath } from './main';
import { personName, staffNames } from './people';
import { chosenOf, listChoices, ownSubdistrict, subdistricts } from './reach';
import type { Column } from './ui';
import { badge, button, field, listOf, loadInto, PAGE_SIZE, pager, refresher, searchBox, section, select, table } from './ui';

export interface RankRow {
  rank: number;
  shop: string;
  name?: string;
  points: number;
  list?: 'red' | 'black' | null;
  working_group?: boolean;
  open_hazards?: number;
  community?: string;
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

/** `withList`: a column saying which list a shop is on (not in the red list's and black list's own tables). */
function rankTable(rows: RankRow[], attr: string, withList = true): HTMLElement {
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
        r.list ? badge(ot(r.list === 'red' ? 'ranking.red' : 'ranking.black'), `list ${r.list}`) : '',
    });
  }
  return table(columns, rows, { 'data-ranking': attr });
}

/** The ranking screen's calls for the sub-district chosen (null: none named; with one sub-district the server takes
 *  it, a sub-district's office is held to its own), and its own path for a month and that choice. A month's list is
 *  asked for a page at a time (a district's sub-district ranks up to 30,000 shops). */
export function rankingCalls(subdistrict: string | null): {
  months: string;
  month: (month: string, filter?: RankFilter, offset?: number) => string;
  publish: (month: string) => string;
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
      return [rankTable(rows, attr, withList), pager(attr, page, (to) => void load(to))];
    });
  return { el, load };
}

export const ranking: Screen = (query) => {
  const asked = query.get('month') ?? '';
  const own = ownSubdistrict();
  const picker = h('div', { class: 'filters' });
  const body = h('div', {});
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
    const black = pagedRanking('black', false, ask, () => ({ list: 'black' }));
    const group = pagedRanking('working-group', true, ask, () => ({ working_group: true }));
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
        draw(shown, calls, name);
      }, 'primary');
      publish.dataset.action = 'publish';
      return [
        h(
          'p',
          { class: 'published', 'data-published': publishedAt ? 'true' : 'false' },
          publishedAt ? ot('ranking.published', { at: when(publishedAt), by: personName(names, publishedBy) }) : ot('ranking.notPublished'),
          ' ',
          publishedAt ? null : publish,
        ),
        rankCounts(answer),
      ];
    }).then((shown) => {
      if (!shown) return;
      body.append(
        h('div', { class: 'two-col' }, section(ot('ranking.red'), red.el), section(ot('ranking.black'), black.el)),
        section(ot('ranking.workingGroup'), group.el),
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
  // changed keeps it). The months with a snapshot, newest first; without a month asked for, the newest snapshot is
  // shown (the current month's appears a few seconds after the first change of the month).
  void loadInto(picker, async () => {
    const choices = listChoices(own === null ? await subdistricts().catch(() => []) : [], own);
    const subdistrict = chosenOf(query.get('subdistrict'), choices);
    const calls = rankingCalls(subdistrict);
    const answer = await get<unknown>(calls.months);
    const months = listOf<string | { month: string }>(answer, 'months').map((m) => (typeof m === 'string' ? m : m.month));
    const month = asked || months[0] || '';
    const s = select('month', months.map((m) => [m, m] as [string, string]), month);
    s.addEventListener('change', () => navigate(calls.path(s.value)));
    const name = choices.find(([code]) => code === subdistrict)?.[1] ?? null;
    if (months.length > 0 || asked) draw(month, calls, name);
    else body.replaceChildren(h('p', { class: 'muted empty' }, ot('common.none')));
    if (subdistrict === null) return field(ot('ranking.month'), s);
    const sd = select('subdistrict', choices, subdistrict);
    // Another sub-district: its own newest month (its months are its own).
    sd.addEventListener('change', () => navigate(rankingCalls(sd.value).path('')));
    return [field(ot('reach.choose'), sd), field(ot('ranking.month'), s)];
  });
  return h('div', { class: 'screen ranking' }, h('h1', {}, ot('ranking.title')), picker, body);
};
