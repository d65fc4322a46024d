// Grid workers: each one's grids and shops, how many were patrolled this month, the overdue patrols and hazards.
import { h } from '../dom';
import { get } from './api';
import { barChart } from './charts';
import { num, pct } from './format';
import { joinList } from '../i18n';
import { ot } from './i18n';
import type { Screen } from './main';
import { listOf, loadInto, section, sortRows, str, table } from './ui';

interface Worker {
  id?: string;
  username?: string;
  name?: string;
  grids?: (string | { id?: string; code?: string; name?: string })[];
  shops?: number;
  patrolled_month?: number;
  /** Of those, the shops this worker patrolled (two workers may share a grid). */
  patrolled_by_them_month?: number;
  patrolled?: number;
  coverage?: number | null;
  overdue_patrols?: number;
  open_hazards?: number;
  overdue_hazards?: number;
  last_patrol?: string | null;
}

const patrolled = (w: Worker): number | undefined => w.patrolled_month ?? w.patrolled;
export const coverageOf = (w: Worker): number | null => {
  if (typeof w.coverage === 'number') return w.coverage;
  const p = patrolled(w);
  return typeof p === 'number' && w.shops ? p / w.shops : null;
};
const who = (w: Worker): string => w.name || w.username || w.id || '';

export const workers: Screen = () => {
  const box = h('div', {});
  void loadInto(box, async () => {
    const rows = listOf<Worker>(await get<unknown>('/api/office/workers'), 'workers');
    return [
      section(
        ot('workers.coverage'),
        // Lowest first: who is behind this month.
        barChart(
          ot('workers.coverage'),
          sortRows(rows, coverageOf, false).map((w) => ({ label: who(w), value: coverageOf(w) })),
          (v) => pct(v),
        ),
      ),
      table(
        [
          { label: ot('common.name'), cell: (w: Worker) => who(w), sort: who },
          {
            label: ot('workers.grids'),
            cell: (w: Worker) => joinList((w.grids ?? []).map((g) => (typeof g === 'string' ? g : str(g.name ?? g.code ?? g.id)))),
          },
          { label: ot('workers.shops'), cell: (w: Worker) => num(w.shops), cls: 'num', sort: (w) => w.shops },
          { label: ot('workers.patrolled'), cell: (w: Worker) => num(patrolled(w)), cls: 'num', sort: patrolled },
          {
            label: ot('workers.patrolledByThem'),
            cell: (w: Worker) => num(w.patrolled_by_them_month),
            cls: 'num',
            sort: (w) => w.patrolled_by_them_month,
          },
          { label: ot('workers.coverage'), cell: (w: Worker) => pct(coverageOf(w)), cls: 'num', sort: coverageOf },
          {
            label: ot('workers.overduePatrols'),
            cell: (w: Worker) => num(w.overdue_patrols),
            cls: 'num',
            sort: (w) => w.overdue_patrols,
          },
          {
            label: ot('workers.openHazards'),
            cell: (w: Worker) => num(w.open_hazards),
            cls: 'num',
            sort: (w) => w.open_hazards,
          },
          {
            label: ot('workers.overdueHazards'),
            cell: (w: Worker) => num(w.overdue_hazards),
            cls: 'num',
            sort: (w) => w.overdue_hazards,
          },
          {
            label: ot('workers.lastPatrol'),
            cell: (w: Worker) => (w.last_patrol ? w.last_patrol.slice(0, 10) : '—'),
            cls: 'nowrap',
            sort: (w) => w.last_patrol,
          },
        ],
        rows,
        { 'data-table': 'workers' },
      ),
    ];
  });
  return h('div', { class: 'screen workers' }, h('h1', {}, ot('workers.title')), box);
};
