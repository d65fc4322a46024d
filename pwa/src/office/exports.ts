// Exports (CSV and XLSX of shops, checks, hazards, rankings) and the printable monthly report, fetched with the
// in-memory token (a plain link would carry none). Checks and hazards are exported for a range of days (this month
// by default: every check since the demo district began is ~60,000 rows, 20-25 s as XLSX), rankings and
// the report for a month; while a file is being made the screen says so.
import { h } from '../dom';
import { openInTab, reasonOf } from './api';
import { thisMonth } from './format';
import { ot } from './i18n';
import type { Screen } from './main';
import { button, downloadShown, field, input, say, section } from './ui';

const KINDS = ['shops', 'checks', 'hazards', 'rankings'] as const;
type Kind = (typeof KINDS)[number];
const RANGED: readonly Kind[] = ['checks', 'hazards'];

/** Today in Asia/Shanghai as YYYY-MM-DD. */
function today(now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(now);
}

/** The query and the file name of one export, from the range and month chosen. */
export function exportTarget(kind: Kind, fmt: string, from: string, to: string, month: string): [string, string] {
  const params = new URLSearchParams();
  let suffix = '';
  if (RANGED.includes(kind)) {
    if (from) params.set('from', from);
    if (to) params.set('to', to);
    if (from || to) suffix = `-${from || '…'}_${to || '…'}`;
  } else if (kind === 'rankings' && month) {
    params.set('month', month);
    suffix = `-${month}`;
  }
  const query = params.toString();
  return [`/api/office/exports/${kind}.${fmt}${query ? `?${query}` : ''}`, `${kind}${suffix}.${fmt}`];
}

export const exports: Screen = () => {
  const status = h('p', { class: 'form-status', role: 'status' });
  const fail = (err: unknown): void => say(status, `${ot('common.failed')}: ${reasonOf(err)}`, 'error');
  const from = input('from', { type: 'date', value: `${thisMonth()}-01` });
  const to = input('to', { type: 'date', value: today() });
  const month = input('month', { type: 'month', value: thisMonth() });
  const rows = KINDS.map((kind) =>
    h('li', { 'data-export': kind }, h('span', { class: 'label' }, ot(`exports.${kind}`)), ' ',
      ...(['csv', 'xlsx'] as const).map((fmt) => {
        const b = button(fmt.toUpperCase(), async () => {
          if (RANGED.includes(kind) && from.value && to.value && from.value > to.value) {
            say(status, ot('exports.badRange'), 'error');
            return;
          }
          await downloadShown(status, ...exportTarget(kind, fmt, from.value, to.value, month.value));
        });
        b.dataset.format = fmt;
        return b;
      })),
  );
  const report = button(ot('exports.open'), () =>
    openInTab(`/api/office/reports/${encodeURIComponent(month.value || thisMonth())}.html`).catch(fail));
  return h('div', { class: 'screen exports' }, h('h1', {}, ot('exports.title')),
    section(ot('exports.title'),
      h('div', { class: 'row' }, field(ot('exports.from'), from), field(ot('exports.to'), to),
        field(ot('ranking.month'), month)),
      h('p', { class: 'muted' }, ot('exports.rangeHint')),
      h('ul', { class: 'exports-list' }, ...rows), status),
    section(ot('exports.report'), h('div', { class: 'row' }, report)));
};
