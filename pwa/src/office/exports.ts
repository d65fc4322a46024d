// Exports (CSV and XLSX of shops, checks, hazards, rankings) and the printable monthly report, fetched with the
// in-memory token (a plain link would carry none). Checks and hazards are exported for a range of days (this month
// by default: every check since the demo district began is ~60,000 rows, 20-25 s as XLSX), rankings and
// the report for a month; while a file is being made the screen says so. The district's office of several
// sub-districts (街道) chooses whose rankings and report (the first by default); a sub-district's office has its own.
import { h } from '../dom';
import { openInTab, qs, reasonOf } from './api';
import { thisMonth } from './format';
import { ot } from './i18n';
import type { Screen } from './main';
import { listChoices, ownSubdistrict, subdistricts } from './reach';
import { button, downloadShown, field, input, loadInto, say, section, select } from './ui';

const KINDS = ['shops', 'checks', 'hazards', 'rankings'] as const;
type Kind = (typeof KINDS)[number];
const RANGED: readonly Kind[] = ['checks', 'hazards'];

/** Today in Asia/Shanghai as YYYY-MM-DD. */
function today(now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(now);
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
  const from = input('from', { type: 'date', value: `${thisMonth()}-01` });
  const to = input('to', { type: 'date', value: today() });
  const month = input('month', { type: 'month', value: thisMonth() });
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
    openInTab(reportPath(month.value || thisMonth(), chosen())).catch(fail));
  return h('div', { class: 'screen exports' }, h('h1', {}, ot('exports.title')),
    section(ot('exports.title'),
      h('div', { class: 'row' }, field(ot('exports.from'), from), field(ot('exports.to'), to),
        field(ot('ranking.month'), month), choice),
      h('p', { class: 'muted' }, ot('exports.rangeHint')),
      h('ul', { class: 'exports-list' }, ...rows), status),
    section(ot('exports.report'), h('div', { class: 'row' }, report)));
};
