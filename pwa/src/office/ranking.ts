// The red/black list (安全生产红黑榜): the current ranking and the monthly snapshots, the working-group flags
// (black-listed again and again → 专班整治), and publishing a month so the public sees it.
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
import { badge, button, field, listOf, loadInto, section, select, table } from './ui';

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

interface RankingAnswer {
  month?: string;
  entries?: RankRow[];
  items?: RankRow[];
  working_group?: string[];
  published?: { by?: string; at?: string } | null;
  published_at?: string | null;
  published_by?: string | null;
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
 *  it, a sub-district's office is held to its own), and its own path for a month and that choice. */
export function rankingCalls(subdistrict: string | null): {
  months: string;
  month: (month: string) => string;
  publish: (month: string) => string;
  path: (month: string) => string;
} {
  return {
    months: `/api/office/rankings${qs({ subdistrict })}`,
    month: (month) => `/api/office/ranking${qs({ month, subdistrict })}`,
    publish: (month) => `/api/office/rankings/${encodeURIComponent(month)}/publish${qs({ subdistrict })}`,
    path: (month) => `${officePath('ranking')}${qs({ month, subdistrict })}`,
  };
}

export const ranking: Screen = (query) => {
  const asked = query.get('month') ?? '';
  const own = ownSubdistrict();
  const picker = h('div', { class: 'filters' });
  const body = h('div', {});
  /** `name`: the sub-district chosen, by name (null: no choice offered). */
  const draw = (month: string, calls: ReturnType<typeof rankingCalls>, name: string | null): void =>
    void loadInto(body, async () => {
      const [answer, names] = await Promise.all([
        get<RankingAnswer>(calls.month(month)),
        staffNames().catch(() => new Map<string, string>()),
      ]);
      const rows = answer.entries ?? answer.items ?? [];
      const flagged = new Set(answer.working_group ?? []);
      for (const r of rows) if (flagged.has(r.shop)) r.working_group = true;
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
        h(
          'div',
          { class: 'two-col' },
          section(ot('ranking.red'), rankTable(rows.filter((r) => r.list === 'red'), 'red', false)),
          section(ot('ranking.black'), rankTable(rows.filter((r) => r.list === 'black'), 'black', false)),
        ),
        section(ot('ranking.workingGroup'), rankTable(rows.filter((r) => r.working_group), 'working-group')),
        section([ot('ranking.title'), name, shown].filter(Boolean).join(' · '), rankTable(rows, 'all')),
      ];
    });
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
