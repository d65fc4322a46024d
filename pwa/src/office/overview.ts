// Overview: the seed's three headline figures (patrol rate, hazards found, rectification rate) against the same
// period last year, the other at-a-glance figures, the breakdown by community and grid, and 13 months of trend.
// The figures are drawn again when an alarm comes or changes (the office's alarm stream, ./watch), and every few
// seconds while the server says it is recomputing them under rules just changed.
import { h } from '../dom';
import { shiftMonth } from '../ulid';
import { navigate } from '../router';
import { get, qs } from './api';
import { barChart, captioned, type Caption, lineChart, type Series } from './charts';
import { FIRST_DAYS } from './exports';
import { change, isNum, num, pct, type Kind } from './format';
import { ot, type OfficeKey } from './i18n';
import type { Screen } from './main';
import type { RegistrySection } from './registry';
import { field, listOf, loadInto, section, select, str, table } from './ui';
import { listen } from './watch';

export const FIGURES = [
  'patrol_coverage_month',
  'hazards_found_month',
  'rectification_rate',
  'shops_active',
  'self_check_coverage_week',
  'open_alarms',
  'overdue_hazards',
] as const;
export type FigureKey = (typeof FIGURES)[number];
const RECOMPUTING_POLL_MS = 3000;
type Figures = Partial<Record<FigureKey, number | null>>;
export interface Summary extends Figures {
  last_year?: Figures;
  /** The day the figures are counted to (today). */
  as_of?: string;
  recomputing?: boolean; // the rules changed: the shops are being projected under them, the figures follow
  shops_registered?: number; // open or closed: 0 before the sub-district's first import
  by_community?: unknown;
  by_grid?: unknown;
}

const LABELS: Record<FigureKey, [OfficeKey, Kind]> = {
  patrol_coverage_month: ['overview.patrolRate', 'rate'],
  hazards_found_month: ['overview.hazardsFound', 'count'],
  rectification_rate: ['overview.rectRate', 'rate'],
  shops_active: ['overview.shopsActive', 'count'],
  self_check_coverage_week: ['overview.selfCheckWeek', 'rate'],
  open_alarms: ['overview.openAlarms', 'count'],
  overdue_hazards: ['overview.overdue', 'count'],
};

/** The figures that lead to the shops behind them: the shops list with the hazards filter, held to the overview's
 *  community and to the shops open today, as the figure counts them (the list's overdue hazards add up to it). */
const SHOPS_BEHIND: Partial<Record<FigureKey, { hazards: string; title: OfficeKey }>> = {
  overdue_hazards: { hazards: 'overdue', title: 'overview.overdueShops' },
};

/** What a figure counts, said when its name is pointed at: the open alarms are every alarm not resolved (待处理, 已确认,
 *  已派单), as the alarm desk's 未办结报警; the menu's count beside the desk is of those not yet acknowledged only. */
const HINTS: Partial<Record<FigureKey, OfficeKey>> = {
  open_alarms: 'overview.openAlarmsHint',
};

export function show(key: FigureKey, value: unknown): string {
  return LABELS[key][1] === 'rate' ? pct(value) : num(value);
}

/** The figures counted over this week or this month, not on the day. */
const PERIOD: Partial<Record<FigureKey, 'week' | 'month'>> = {
  patrol_coverage_month: 'month',
  hazards_found_month: 'month',
  rectification_rate: 'month',
  self_check_coverage_week: 'week',
};

/** Whether `key`'s week or month began today: its few hours are not set against last year's whole first day (on the
 *  1st every change read −100% in red). */
export function firstDay(key: FigureKey, asOf: string | undefined): boolean {
  const period = PERIOD[key];
  if (!period || !asOf) return false;
  if (period === 'month') return asOf.endsWith('-01');
  return new Date(`${asOf}T12:00:00Z`).getUTCDay() === 1; // an ISO week begins on Monday
}

function card(key: FigureKey, summary: Summary, headline: boolean, community: string): HTMLElement {
  const [label, kind] = LABELS[key];
  const behind = SHOPS_BEHIND[key];
  const now = summary[key];
  const before = summary.last_year?.[key];
  const fresh = firstDay(key, summary.as_of);
  const delta = fresh ? null : change(now, before, kind);
  // For overdue hazards and open alarms fewer is better: colour the change accordingly.
  const better = key === 'overdue_hazards' || key === 'open_alarms' ? -1 : 1;
  return h(
    'article',
    {
      class: `${headline ? 'figure-card headline' : 'figure-card'}${behind ? ' linked' : ''}`,
      'data-figure': key,
      'data-value': isNum(now) ? String(now) : '',
      'data-last-year': isNum(before) ? String(before) : '',
    },
    // The whole card is the link (office.css stretches it); its words are the figure's name.
    h('h3', { title: HINTS[key] ? ot(HINTS[key]) : undefined }, behind
      ? h('a', { href: `/office/shops${qs({ hazards: behind.hazards, status: 'active', community })}`, 'data-figure-link': key,
        title: ot(behind.title) }, ot(label))
      : ot(label)),
    h('p', { class: 'big' }, show(key, now)),
    h(
      'p',
      { class: 'last-year' },
      fresh
        ? ot(PERIOD[key] === 'week' ? 'overview.lastYearFirstWeekDay' : 'overview.lastYearFirstMonthDay', { v: show(key, before) })
        : ot('overview.lastYear', { v: show(key, before) }),
      delta &&
        h(
          'span',
          { class: `delta ${delta.sign === 0 ? 'flat' : delta.sign === better ? 'up' : 'down'}` },
          delta.text,
        ),
    ),
  );
}

interface Row extends Figures {
  id: string;
  name: string;
}

/** A breakdown given either as {id: figures} or as [{id, name, ...figures}]. */
export function rowsOf(value: unknown, names: Map<string, string>): Row[] {
  if (Array.isArray(value)) {
    return value.map((r: Record<string, unknown>) => {
      const id = str(r.id ?? r.code ?? r.community ?? r.grid);
      return { ...(r as Figures), id, name: str(r.name) || names.get(id) || id };
    });
  }
  if (value && typeof value === 'object') {
    return Object.entries(value as Record<string, Figures & { name?: string }>).map(([id, f]) => ({
      ...f,
      id,
      name: str(f.name) || names.get(id) || id,
    }));
  }
  return [];
}

/** A chart's caption: `title`, its unit and its period, and where its values are. */
function caption(title: string, unit: OfficeKey, period: string, values: OfficeKey): Caption {
  const u = ot(unit);
  return { title, detail: ot('chart.detail', { unit: u, period }), label: ot('chart.label', { title, unit: u, period, values: ot(values) }) };
}

/** This month, counted to `asOf` (today), as the month's figures are. */
function monthPeriod(asOf: string | undefined): string {
  return asOf ? ot('chart.month', { month: asOf.slice(0, 7), asOf }) : ot('chart.thisMonth');
}

function breakdown(title: string, rows: Row[], attr: string, asOf: string | undefined): HTMLElement {
  const cols: FigureKey[] = [
    'shops_active',
    'self_check_coverage_week',
    'patrol_coverage_month',
    'hazards_found_month',
    'rectification_rate',
    'open_alarms',
    'overdue_hazards',
  ];
  const bars = rows.map((r) => ({ label: r.name, value: isNum(r.patrol_coverage_month) ? r.patrol_coverage_month : null }));
  return section(
    title,
    // No patrol yet this month (on the 1st): a line, not a chart of 68 empty bars before the table.
    bars.some((b) => (b.value ?? 0) > 0)
      ? captioned(barChart(`${title} · ${ot('overview.patrolRate')}`, bars, (v) => pct(v)),
        caption(`${title} · ${ot('overview.patrolRate')}`, 'chart.percent', monthPeriod(asOf), 'chart.valuesBelow'))
      : h('p', { class: 'muted', 'data-no-patrol': attr }, ot('overview.noPatrolYet')),
    table(
      [
        {
          label: ot('common.name'),
          // A community opens the overview filtered to it; a grid opens its shops.
          cell: (r: Row) =>
            h('a', { href: attr === 'community' ? `/office${qs({ community: r.id })}` : `/office/shops${qs({ grid: r.id })}` }, r.name),
        },
        ...cols.map((k) => ({ label: ot(LABELS[k][0]), cell: (r: Row) => show(k, r[k]), cls: 'num' })),
      ],
      rows,
      { 'data-breakdown': attr },
    ),
  );
}

/** The steps of a sub-district with no shop registered yet (its figures are all 0), each leading to the section of
 *  登记管理 where it is done, scrolled to and focused there: the survey import, the grids and their workers, the QR
 *  posters. */
const FIRST_STEPS: [OfficeKey, OfficeKey, RegistrySection][] = [
  ['overview.step.import', 'overview.step.importHint', 'import'],
  ['overview.step.grids', 'overview.step.gridsHint', 'grids'],
  ['overview.step.posters', 'overview.step.postersHint', 'posters'],
];

/** The first steps block, shown while the sub-district has no shops (`summary.shops_registered` is 0). */
export function firstSteps(): HTMLElement {
  const node = section(
    ot('overview.firstSteps'),
    h('p', { class: 'muted' }, ot('overview.firstStepsHint')),
    h('ol', { class: 'first-steps' }, ...FIRST_STEPS.map(([step, hint, key]) =>
      h('li', { 'data-step': key },
        h('a', { href: `/office/registry${qs({ section: key })}` }, ot(step)),
        h('p', { class: 'muted' }, ot(hint))))),
  );
  node.dataset.firstSteps = '';
  return node;
}

interface TrendMonth {
  month: string;
  as_of?: string;
  patrol_rate?: number | null;
  self_check_coverage?: number | null;
  rectification_rate?: number | null;
  hazards_found?: number | null;
}

/** The trend's months, first to last, the last counted to its `as_of` (today). */
function monthsPeriod(months: TrendMonth[]): string {
  const first = months[0]?.month ?? '';
  const last = months[months.length - 1];
  if (!last) return '';
  return last.as_of
    ? ot('chart.monthsSoFar', { from: first, to: last.month, asOf: last.as_of })
    : ot('chart.months', { from: first, to: last.month });
}

function trend(months: TrendMonth[]): HTMLElement {
  // The last month is counted to today: its label says so (on the 1st its rates and count are a few hours').
  const labels = months.map((m, i) => (i === months.length - 1 ? ot('overview.soFar', { month: m.month.slice(2) }) : m.month.slice(2)));
  const rate = (k: keyof TrendMonth): (number | null)[] => months.map((m) => (isNum(m[k]) ? (m[k] as number) : null));
  const period = monthsPeriod(months);
  const percent = (v: number): string => `${Math.round(v * 100)}%`;
  const whole = (v: number): string => String(Math.round(v));
  /** Each month's values, as a table folded under the chart. */
  const values = (series: Series[], format: (v: number) => string): { head: string[]; rows: string[][]; tableLabel: string } => ({
    tableLabel: ot('chart.table'),
    head: [ot('ranking.month'), ...series.map((s) => s.label)],
    rows: labels.map((month, i) => [month, ...series.map((s) => (isNum(s.values[i]) ? format(s.values[i] as number) : '—'))]),
  });
  const rates: Series[] = [
    { label: ot('overview.seriesPatrol'), values: rate('patrol_rate'), cls: 's1' },
    { label: ot('overview.seriesSelfCheck'), values: rate('self_check_coverage'), cls: 's2' },
    { label: ot('overview.seriesRect'), values: rate('rectification_rate'), cls: 's3' },
  ];
  const hazards: Series[] = [{ label: ot('overview.seriesHazards'), values: rate('hazards_found'), cls: 's4' }];
  return section(
    ot('overview.trend'),
    h(
      'div',
      { class: 'charts' },
      captioned(
        lineChart(ot('overview.trendRates'), labels, rates, percent, { max: 1, partialLast: true }),
        caption(ot('overview.trendRates'), 'chart.percent', period, 'chart.valuesTable'),
        values(rates, percent),
      ),
      captioned(
        lineChart(ot('overview.trendHazards'), labels, hazards, whole, { counts: true, partialLast: true }),
        caption(ot('overview.trendHazards'), 'chart.hazards', period, 'chart.valuesTable'),
        values(hazards, whole),
      ),
    ),
  );
}

/** The months the trend charts; it asks for one more, the month a year before last month (`lastMonthBox`). */
const TREND_MONTHS = 13;

/** Last month's three headline figures beside the same month last year, whole months both, shown in a month's first
 *  days (`FIRST_DAYS`, as the exports open on last month then): at month-end the office reports the month just ended,
 *  while this month's figures are a few days old. `months`: the trend's rows, oldest first, this month last. Null
 *  after the first days, or without both months. */
export function lastMonthBox(months: readonly TrendMonth[]): HTMLElement | null {
  const current = months[months.length - 1];
  const today = current?.as_of ?? '';
  if (!current || Number(today.slice(8, 10)) > FIRST_DAYS) return null;
  const last = months[months.length - 2];
  const before = last && months.find((m) => m.month === shiftMonth(last.month, -12));
  if (!last || !before) return null;
  const rows: [keyof TrendMonth, OfficeKey, Kind][] = [
    ['patrol_rate', 'overview.lastMonth.patrol', 'rate'],
    ['hazards_found', 'overview.lastMonth.hazards', 'count'],
    ['rectification_rate', 'overview.lastMonth.rect', 'rate'],
  ];
  const node = section(
    ot('overview.lastMonth', { month: last.month }),
    h('p', { class: 'muted' }, ot('overview.lastMonthHint', { before: before.month })),
    h('div', { class: 'figure-row' }, ...rows.map(([key, label, kind]) => {
      const now = last[key];
      const then = before[key];
      const shown = (v: unknown): string => (kind === 'rate' ? pct(v) : num(v));
      const delta = change(now, then, kind);
      return h('article', {
        class: 'figure-card',
        'data-last-month-figure': String(key),
        'data-value': isNum(now) ? String(now) : '',
        'data-last-year': isNum(then) ? String(then) : '',
      },
      h('h3', {}, ot(label)),
      h('p', { class: 'big' }, shown(now)),
      h('p', { class: 'last-year' }, ot('overview.lastYear', { v: shown(then) }),
        delta && h('span', { class: `delta ${delta.sign === 0 ? 'flat' : delta.sign === 1 ? 'up' : 'down'}` }, delta.text)));
    })),
  );
  node.dataset.lastMonth = last.month;
  return node;
}

export const overview: Screen = (query) => {
  const community = query.get('community') ?? '';
  const filter = h('div', { class: 'filters' });
  const figures = h('div', { class: 'figures-box' });
  const parts = h('div', { class: 'breakdowns' });
  const chart = h('div', { class: 'trend-box' });
  const lastMonth = h('div', { class: 'last-month-box' });

  void get<unknown>('/api/office/communities')
    .then((answer) => {
      const list = listOf<{ id: string; name: string }>(answer, 'communities');
      const s = select('community', [['', ot('overview.allCommunities')], ...list.map((c) => [c.id, c.name] as [string, string])], community);
      s.addEventListener('change', () => navigate(`/office${qs({ community: s.value })}`));
      filter.replaceChildren(field(ot('common.community'), s));
      return new Map(list.map((c) => [c.id, c.name]));
    })
    .catch(() => new Map<string, string>())
    .then((names) => {
      // While the rules just changed are being applied, the figures are drawn again every few seconds until done.
      let again: ReturnType<typeof setTimeout> | null = null;
      const draw = async (): Promise<HTMLElement[]> => {
        const summary = await get<Summary>(`/api/office/summary${qs({ community, breakdown: 1 })}`);
        const [a, b, c, ...rest] = FIGURES;
        if (summary.recomputing === true && again === null) {
          again = setTimeout(() => {
            again = null;
            if (!figures.isConnected) return;
            void draw()
              .then((out) => figures.replaceChildren(...out))
              .catch(() => undefined);
          }, RECOMPUTING_POLL_MS);
        }
        // A sub-district before its first import: what to do first, above the figures (all 0 until then).
        const empty = !community && summary.shops_registered === 0;
        const out = [
          ...(empty ? [firstSteps()] : []),
          h('h2', {}, ot('overview.headline')),
          ...(summary.recomputing === true
            ? [h('p', { class: 'notice', 'data-notice': 'recomputing', role: 'status' }, ot('overview.recomputing'))]
            : []),
          h('div', { class: 'figure-row headline-row' }, ...[a, b, c].map((k) => card(k, summary, true, community))),
          h('div', { class: 'figure-row' }, ...rest.map((k) => card(k, summary, false, community))),
        ];
        const byCommunity = rowsOf(summary.by_community, names);
        const byGrid = rowsOf(summary.by_grid, names);
        parts.replaceChildren(
          ...(community ? [] : [breakdown(ot('overview.byCommunity'), byCommunity, 'community', summary.as_of)]),
          breakdown(ot('overview.byGrid'), byGrid, 'grid', summary.as_of),
        );
        return out;
      };
      void loadInto(figures, draw);
      // An alarm raised, acknowledged or resolved anywhere changes the open alarms: the figures follow, quietly.
      let soon: ReturnType<typeof setTimeout> | null = null;
      listen({
        owner: figures,
        event: (event) => {
          if (event.event !== 'alarm' || soon !== null) return;
          soon = setTimeout(() => {
            soon = null;
            void draw()
              .then((out) => figures.replaceChildren(...out))
              .catch(() => undefined);
          }, 1000);
        },
      });
    });
  void loadInto(chart, async () => {
    const answer = await get<unknown>(`/api/office/trend${qs({ months: TREND_MONTHS + 1, community })}`);
    const months = listOf<TrendMonth>(answer, 'months');
    const box = lastMonthBox(months);
    lastMonth.replaceChildren(...(box ? [box] : []));
    return trend(months.slice(-TREND_MONTHS));
  });
  return h('div', { class: 'screen overview' }, h('h1', {}, ot('overview.title')), filter, figures, lastMonth, chart, parts);
};
