// Exports (CSV and XLSX of shops, checks, hazards, rankings) and the printable monthly report, fetched with the
// in-memory token (a plain link would carry none). Checks and hazards are exported for a range of days (this month
// by default, last month in a month's first days: every check since the demo district began is ~60,000 rows, 20-25 s
// as XLSX), rankings and the report for a month (last month by default: a monthly report is made after the month;
// this month so far may be chosen); while a file is being made the screen says so. The district's office of several
// sub-districts (街道) chooses whose rankings and report (the first by default); a sub-district's office has its own.
import { h } from '../dom';
import { monthBefore, shanghaiDay } from '../ulid';
import { openInTab, qs, reasonOf } from './api';
import { ot } from './i18n';
import type { Screen } from './main';
import { listChoices, ownSubdistrict, subdistricts } from './reach';
import { button, downloadShown, field, input, loadInto, say, section, select } from './ui';

const KINDS = ['shops', 'checks', 'hazards', 'rankings'] as const;
type Kind = (typeof KINDS)[number];
const RANGED: readonly Kind[] = ['checks', 'hazards'];

/** The days of a month's start in which the exports' days default to last month: the new month has hardly any
 *  records yet (not one week's round of self-checks), and the office exports then what it reports, last month. */
export const FIRST_DAYS = 7;

/** The last day (YYYY-MM-DD) of `month` (YYYY-MM). */
function lastDayOf(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return `${month}-${String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, '0')}`;
}

/** The days the checks and hazards are exported for when the screen opens, `today` (YYYY-MM-DD, Shanghai): this
 *  month so far, but the whole of last month in the month's first `FIRST_DAYS` days (`lastMonth`). */
export function defaultPeriod(today: string): { from: string; to: string; lastMonth: boolean } {
  const month = today.slice(0, 7);
  if (Number(today.slice(8, 10)) > FIRST_DAYS) return { from: `${month}-01`, to: today, lastMonth: false };
  const last = monthBefore(month);
  return { from: `${last}-01`, to: lastDayOf(last), lastMonth: true };
}

/** The months the rankings and the report may be asked for, newest first: this month so far (labelled so), then the
 *  `back` months before it. The default is the second, last month: the first finished one. */
export function reportMonths(today: string, back = 24): [string, string][] {
  const current = today.slice(0, 7);
  const months: [string, string][] = [[current, ot('exports.soFar', { month: current })]];
  let month = current;
  for (let i = 0; i < back; i += 1) {
    month = monthBefore(month);
    months.push([month, month]);
  }
  return months;
}

/** The query and the file name of one export, from the range, month and sub-district chosen (the sub-district:
 *  of the rankings only; null: none named). */
export function exportTarget(
  kind: Kind,
  fmt: string,
  from: string,
  to: string,
  month: string,
  subdistrict: string | null = null,
): [string, string] {
  const params = new URLSearchParams();
  let suffix = '';
  if (RANGED.includes(kind)) {
    if (from) params.set('from', from);
    if (to) params.set('to', to);
    if (from || to) suffix = `-${from || '…'}_${to || '…'}`;
  } else if (kind === 'rankings') {
    if (month) params.set('month', month);
    if (subdistrict) params.set('subdistrict', subdistrict);
    suffix = [subdistrict, month].filter(Boolean).map((p) => `-${p}`).join('');
  }
  const query = params.toString();
  return [`/api/office/exports/${kind}.${fmt}${query ? `?${query}` : ''}`, `${kind}${suffix}.${fmt}`];
}

/** The printable monthly report of a month, of the sub-district chosen (null: none named). */
export function reportPath(month: string, subdistrict: string | null = null): string {
  return `/api/office/reports/${encodeURIComponent(month)}.html${qs({ subdistrict })}`;
}

export const exports: Screen = () => {
  const status = h('p', { class: 'form-status', role: 'status' });
  const fail = (err: unknown): void => say(status, `${ot('common.failed')}: ${reasonOf(err)}`, 'error');
  const day = shanghaiDay();
  const period = defaultPeriod(day);
  const from = input('from', { type: 'date', value: period.from });
  const to = input('to', { type: 'date', value: period.to });
  // A monthly report is made after the month: last month's by default, this month so far still offered.
  const months = reportMonths(day);
  const lastMonth = months[1]?.[0] ?? '';
  const month = select('month', months, lastMonth);
  // The choice of sub-district, once the registry names several (none for a sub-district's office).
  const choice = h('span', { class: 'subdistrict-choice' });
  let chosen = (): string | null => null;
  if (ownSubdistrict() === null) {
    void loadInto(choice, async () => {
      const choices = listChoices(await subdistricts().catch(() => []), null);
      if (choices.length === 0) return [];
      const s = select('subdistrict', choices, choices[0]?.[0]);
      chosen = () => s.value || null;
      return field(ot('reach.choose'), s);
    });
  }
  const rows = KINDS.map((kind) =>
    h('li', { 'data-export': kind }, h('span', { class: 'label' }, ot(`exports.${kind}`)), ' ',
      ...(['csv', 'xlsx'] as const).map((fmt) => {
        const b = button(fmt.toUpperCase(), async () => {
          if (RANGED.includes(kind) && from.value && to.value && from.value > to.value) {
            say(status, ot('exports.badRange'), 'error');
            return;
          }
          await downloadShown(status, ...exportTarget(kind, fmt, from.value, to.value, month.value, chosen()));
        });
        b.dataset.format = fmt;
        return b;
      })),
  );
  const report = button(ot('exports.open'), () =>
    openInTab(reportPath(month.value || lastMonth, chosen())).catch(fail));
  report.dataset.action = 'open-report';
  return h('div', { class: 'screen exports' }, h('h1', {}, ot('exports.title')),
    section(ot('exports.title'),
      h('div', { class: 'row' }, field(ot('exports.from'), from), field(ot('exports.to'), to),
        field(ot('ranking.month'), month), choice),
      h('p', { class: 'muted' }, ot('exports.rangeHint')),
      // Opened on last month (the days too, in a month's first days): said, and where this month is.
      period.lastMonth
        ? h('p', { class: 'muted', 'data-last-month-days': `${period.from}_${period.to}` },
          ot('exports.lastMonthDays', { from: period.from, to: period.to }))
        : null,
      h('p', { class: 'muted', 'data-last-month': lastMonth },
        ot('exports.lastMonthFirst', { month: lastMonth, current: day.slice(0, 7) })),
      h('ul', { class: 'exports-list' }, ...rows), status),
    section(ot('exports.report'), h('div', { class: 'row' }, report)));
};
