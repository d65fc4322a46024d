// `/grid`: the grid worker's shops with what is due at each, the most urgent first, and a search box.
import { h } from '../dom';
import { navigate } from '../router';
import type { View } from '../views';
import { signOutButton } from '../sign-out';
import { refusedIds, shopsWaiting, whileShown } from '../db';
import { currentSession } from '../session';
import { onSyncStatus } from '../sync-status';
import { askShops, loadShopFiles } from './data';
import { dueList, filterDues, monthProgress, photosToKeep, withoutRefused, type Due, type DueFilter } from './due';
import { keepPhotos } from './photo-cache';
import { checkScope, outOfScope, scopeCheckDue, withoutOutside } from './scope';
import { takeFlash } from './flash';
import { gt } from './i18n';
import { badge, notice, shortDay } from './ui';

/** An open alarm or an overdue hazard: the card gets a red edge. */
const URGENT = 100;

function dueBadges(due: Due): HTMLElement {
  const row = h('div', { class: 'g-badges' });
  if (due.closed) {
    row.append(badge(gt('due.closed'), 'muted', { 'data-due': 'closed' }));
    return row;
  }
  if (due.openAlarms) row.append(badge(gt('due.alarm', { n: due.openAlarms }), 'bad', { 'data-due': 'alarm' }));
  if (due.overdueHazards)
    row.append(badge(gt('due.overdue', { n: due.overdueHazards }), 'bad', { 'data-due': 'overdue' }));
  if (due.toVerify) row.append(badge(gt('due.verify', { n: due.toVerify }), 'warn', { 'data-due': 'verify' }));
  const otherOpen = due.openHazards - due.overdueHazards - due.toVerify;
  if (otherOpen > 0) row.append(badge(gt('due.hazards', { n: otherOpen }), 'warn', { 'data-due': 'hazards' }));
  row.append(
    due.patrolDue
      ? badge(gt('due.patrol'), 'warn', { 'data-due': 'patrol' })
      : badge(gt('due.patrolled'), 'ok', { 'data-due': 'patrolled' }),
  );
  if (due.selfCheckMissing) row.append(badge(gt('due.selfCheck'), 'muted', { 'data-due': 'self-check' }));
  return row;
}

function shopCard(due: Due, waiting: boolean): HTMLElement {
  return h(
    'li',
    {},
    h(
      'a',
      {
        class: due.urgency >= URGENT ? 'g-shop urgent' : 'g-shop',
        href: `/grid/s/${encodeURIComponent(due.code)}`,
        'data-shop': due.code,
        'data-urgency': String(due.urgency),
      },
      h(
        'div',
        { class: 'g-shop-head' },
        h('strong', { class: 'g-shop-name' }, due.name),
        h(
          'span',
          { class: 'g-points' },
          due.points === null ? gt('list.noPoints') : gt('list.points', { n: due.points }),
        ),
      ),
      h(
        'div',
        { class: 'muted' },
        `${due.code} · ${due.address} `,
        // Kept on one line with its separator: a narrow phone broke "11月29日" before its last character, and a
        // break after the "·" left it dangling at the end of the line above.
        h(
          'span',
          { class: 'nowrap' },
          '· ',
          due.lastPatrol ? gt('due.lastPatrol', { day: shortDay(due.lastPatrol) }) : gt('due.neverPatrolled'),
        ),
      ),
      dueBadges(due),
      // What this phone did there and the server has not got yet: an offline day shows where it still is.
      waiting ? badge(gt('list.waiting'), 'warn', { 'data-waiting': '' }) : null,
    ),
  );
}

function paramsOf(rest: string): URLSearchParams {
  const at = rest.indexOf('?');
  return new URLSearchParams(at === -1 ? '' : rest.slice(at + 1));
}

const FILTERS: [DueFilter, 'filter.all' | 'filter.patrol' | 'filter.problems'][] = [
  ['all', 'filter.all'],
  ['patrol', 'filter.patrol'],
  ['problems', 'filter.problems'],
];

export function listView(rest: string): View {
  const search = h('input', {
    type: 'search',
    name: 'q',
    class: 'g-search',
    placeholder: gt('list.search'),
    'aria-label': gt('list.search'),
    autocomplete: 'off',
    enterkeyhint: 'search',
  });
  const params = paramsOf(rest);
  search.value = params.get('q') ?? '';
  let filter: DueFilter = FILTERS.some(([f]) => f === params.get('f')) ? (params.get('f') as DueFilter) : 'all';
  const filterButtons = FILTERS.map(([f, key]) => {
    const button = h('button', { type: 'button', class: 'g-filter', 'data-filter': f }, gt(key));
    button.addEventListener('click', () => {
      filter = f;
      draw();
      remember();
    });
    return button;
  });
  const filters = h('div', { class: 'g-filters', role: 'group', 'aria-label': gt('filter.label') }, ...filterButtons);
  const progress = h('p', { class: 'muted', 'data-progress': '' });
  const list = h('ul', { class: 'g-shops', 'aria-live': 'polite' });
  const node = h(
    'section',
    { class: 'page grid grid-list' },
    h('h1', {}, gt('title.shops')),
    progress,
    ((message) => (message ? notice(message, 'ok', { 'data-flash': '' }) : null))(takeFlash()),
    filters,
    h(
      'div',
      { class: 'g-toolbar' },
      search,
      h('a', { class: 'button primary g-scan', href: '/grid/scan', 'data-action': 'scan' }, gt('list.scan')),
    ),
    list,
    h('nav', { class: 'actions small' }, signOutButton(() => navigate('/login?role=grid', true))),
  );

  // Every shop file on the phone, and those of shops the server says are no longer this worker's (moved to
  // another grid: their documents stay on the phone, ./scope): the list shows the others.
  let onPhone: Awaited<ReturnType<typeof loadShopFiles>> | null = null;
  let waiting = shopsWaiting();
  let files: Awaited<ReturnType<typeof loadShopFiles>> | null = null;
  const user = currentSession()?.user.id ?? '';
  let outside = outOfScope(user);
  let asking = false;
  const askScope = (codes: string[]): void => {
    if (asking || !navigator.onLine || !scopeCheckDue(user, codes, Date.now())) return;
    asking = true;
    void checkScope(user, codes, askShops)
      .then((found) => {
        outside = found;
        if (onPhone) files = withoutOutside(onPhone, outside);
        draw();
      })
      .catch(() => undefined) // offline or refused: the last answer stands
      .finally(() => {
        asking = false;
      });
  };
  const draw = (): void => {
    if (!files) return;
    const all = dueList(files.values(), new Date());
    const { done, total } = monthProgress(all);
    progress.textContent = gt('list.progress', { done, total });
    for (const button of filterButtons) button.setAttribute('aria-pressed', String(button.dataset.filter === filter));
    const q = search.value;
    const shown = filterDues(q.trim() ? dueList(files.values(), new Date(), q) : all, filter);
    if (!all.length) list.replaceChildren(notice(gt('list.empty')));
    else if (!shown.length) list.replaceChildren(notice(q.trim() ? gt('list.noMatch', { q }) : gt('list.noneFiltered')));
    else list.replaceChildren(...shown.map((due) => shopCard(due, waiting.has(due.code))));
  };
  const reload = (): void => {
    void loadShopFiles().then((loaded) => {
      const refused = refusedIds();
      const found = new Map([...loaded].map(([code, file]) => [code, withoutRefused(file, refused)]));
      onPhone = found;
      waiting = shopsWaiting();
      files = withoutOutside(found, outside);
      draw();
      // With signal, keep the owners' photos of the shops still to visit for an offline day.
      void keepPhotos(photosToKeep(files.values(), new Date()));
      askScope([...found.keys()]);
    });
  };

  // Keep the search and the filter in the address, so back from a shop returns to the same list.
  const remember = (): void => {
    const query = new URLSearchParams();
    if (search.value.trim()) query.set('q', search.value.trim());
    if (filter !== 'all') query.set('f', filter);
    const text = query.toString();
    history.replaceState(null, '', text ? `/grid?${text}` : '/grid');
  };
  search.addEventListener('input', () => {
    draw();
    remember();
  });
  search.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    const first = list.querySelector<HTMLAnchorElement>('a.g-shop');
    if (first) navigate(new URL(first.href).pathname);
  });
  // Listen first, then read: a batch the first sync writes while the list is read is not missed.
  whileShown(node, reload, 1000); // a first sync brings hundreds of batches: redraw once a second at most
  // What waits changes without a local write (the server acknowledged it): the shops' 有记录待上传 follow the ledgers'
  // count. By the shops, not the number: one patrol acknowledged while another is written leaves the number as it was.
  let heard = false;
  const stop = onSyncStatus(() => {
    if (!node.isConnected && heard) {
      stop();
      return;
    }
    heard = true;
    const now = shopsWaiting();
    if (now.size !== waiting.size || [...now].some((code) => !waiting.has(code))) {
      waiting = now;
      draw();
    }
  });
  reload();
  return { title: gt('title.shops'), node };
}
