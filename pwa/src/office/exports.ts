// Exports (CSV and XLSX of shops, checks, hazards, rankings) and the printable monthly report, fetched with the
// in-memory token (a plain link would carry none).
import { h } from '../dom';
import { download, openInTab, reasonOf } from './api';
import { thisMonth } from './format';
import { ot } from './i18n';
import type { Screen } from './main';
import { button, field, input, section } from './ui';

const KINDS = ['shops', 'checks', 'hazards', 'rankings'] as const;

export const exports: Screen = () => {
  const status = h('p', { class: 'form-status', role: 'status' });
  const fail = (err: unknown): void => {
    status.className = 'form-status error';
    status.textContent = `${ot('common.failed')}: ${reasonOf(err)}`;
  };
  const rows = KINDS.map((kind) =>
    h('li', { 'data-export': kind }, h('span', { class: 'label' }, ot(`exports.${kind}`)), ' ',
      ...(['csv', 'xlsx'] as const).map((fmt) => {
        const b = button(fmt.toUpperCase(), () => download(`/api/office/exports/${kind}.${fmt}`, `${kind}.${fmt}`).catch(fail));
        b.dataset.format = fmt;
        return b;
      })),
  );
  const month = input('month', { type: 'month', value: thisMonth() });
  const report = button(ot('exports.open'), () =>
    openInTab(`/api/office/reports/${encodeURIComponent(month.value || thisMonth())}.html`).catch(fail));
  return h('div', { class: 'screen exports' }, h('h1', {}, ot('exports.title')),
    section(ot('exports.title'), h('ul', { class: 'exports-list' }, ...rows)),
    section(ot('exports.report'), h('div', { class: 'row' }, field(ot('ranking.month'), month), report)),
    status);
};
