// `/grid`: the grid worker's shops with what is due at each, the most urgent first, and a search box.
import { h } from '../dom';
import { navigate } from '../router';
import type { View } from '../views';
import { signOutButton } from '../sign-out';
import { localDb, refusedIds, shopsWaiting, whileShown } from '../db';
import { currentSession } from '../session';
import { getSyncStatus, onSyncStatus } from '../sync-status';
import { shanghaiDay } from '../ulid';
import { askShops, loadDistrict, loadShopFile, loadShopFiles, shopFilesAt, shopsChangedSince } from './data';
import { filterDues, matches, monthProgress, type Due, type DueFilter } from './due';
import { compose, ListData, withoutShops, type ListModel, type ModelKey, type ShopEntry } from './list-model';
import { keepPhotos } from '../photo-cache';
import { checkScope, outOfScope, scopeCheckDue } from './scope';
import { gt } from './i18n';
import { badge, notice, savedFlash, shortDay } from './ui';

/** An open alarm (or one to upload) or an overdue hazard: the card gets a red edge. */
const URGENT = 100;

/** Last month's patrol missed (the office counts the shop 逾期未巡查): on the 1st every shop owes the month's patrol, and
 *  the one last seen on 1 October must not look like the one patrolled yesterday. Still a patrol due (`data-due`). */
function missedBadge(due: Due): HTMLElement {
  const text = due.lastPatrol ? gt('due.patrolOverdue', { day: shortDay(due.lastPatrol) }) : gt('due.patrolOverdueNever');
  return badge(text, 'bad', { 'data-due': 'patrol', 'data-overdue': '' });
}

function dueBadges(due: Due): HTMLElement {
  const row = h('div', { class: 'g-badges' });
  if (due.closed) {
    row.append(badge(gt('due.closed'), 'muted', { 'data-due': 'closed' }));
    return row;
  }
  if (due.openAlarms) row.append(badge(gt('due.alarm', { n: due.openAlarms }), 'bad', { 'data-due': 'alarm' }));
  // A patrol on this phone that will raise an alarm, not uploaded yet (or the server's alarm not back yet).
  if (due.pendingAlarms)
    row.append(badge(gt('due.alarmPending', { n: due.pendingAlarms }), 'bad', { 'data-due': 'alarm-pending' }));
  if (due.overdueHazards)
    row.append(badge(gt('due.overdue', { n: due.overdueHazards }), 'bad', { 'data-due': 'overdue' }));
  if (due.toVerify) row.append(badge(gt('due.verify', { n: due.toVerify }), 'warn', { 'data-due': 'verify' }));
  const otherOpen = due.openHazards - due.overdueHazards - due.toVerify;
  if (otherOpen > 0) row.append(badge(gt('due.hazards', { n: otherOpen }), 'warn', { 'data-due': 'hazards' }));
  row.append(
    due.patrolOverdue
      ? missedBadge(due)
      : due.patrolDue
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

/** The download is under way (not held up by no signal): an empty list is one still to come, not one to sync. */
function downloading(): boolean {
  const status = getSyncStatus();
  return status.pulling && status.state !== 'offline';
}

/** Cards drawn at first, and added each time the end of the list comes near: a city grid's 260 cards, drawn at once
 *  on every redraw, held a cheap phone for a second or more. */
export const PAGE = 40;

/** The list's data, kept while the app runs: coming back to the list reads only what changed. */
const data = new ListData({
  files: loadShopFiles,
  filesAt: shopFilesAt,
  changedSince: shopsChangedSince,
  file: loadShopFile,
  get store() {
    return localDb();
  },
});

// The sync status listener of the list shown last: a list left for a shop and never shown again kept its listener,
// and with it every shop file it had read.
let stopListening: (() => void) | null = null;

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
      limit = PAGE;
      draw();
      remember();
    });
    return button;
  });
  const filters = h('div', { class: 'g-filters', role: 'group', 'aria-label': gt('filter.label') }, ...filterButtons);
  const progress = h('p', { class: 'muted', 'data-progress': '' });
  const list = h('ul', { class: 'g-shops', 'aria-live': 'polite' });
  // The cards drawn so far: a redraw (a sync batch) keeps as many as the worker has scrolled to; a new search or
  // filter starts again from the first page.
  let limit = PAGE;
  let shownDues: Due[] = [];
  const more = h('button', { type: 'button', class: 'button g-more', 'data-action': 'more-shops', hidden: true });
  more.addEventListener('click', () => {
    limit += PAGE;
    drawCards();
  });
  // Near the end of the list the next page comes by itself; the button stays for a keyboard or a screen reader.
  const nearEnd =
    typeof IntersectionObserver === 'undefined'
      ? null
      : new IntersectionObserver((entries) => {
          if (entries.some((e) => e.isIntersecting) && !more.hidden && node.isConnected) more.click();
        }, { rootMargin: '0px 0px 600px 0px' });
  nearEnd?.observe(more);
  const node = h(
    'section',
    { class: 'page grid grid-list' },
    h('h1', {}, gt('title.shops')),
    progress,
    savedFlash(),
    filters,
    h(
      'div',
      { class: 'g-toolbar' },
      search,
      h('a', { class: 'button primary g-scan', href: '/grid/scan', 'data-action': 'scan' }, gt('list.scan')),
    ),
    list,
    more,
    h('nav', { class: 'actions small' }, signOutButton(() => navigate('/login?role=grid', true))),
  );

  // Every shop on the phone, and the shops the server says are no longer this worker's (moved to another grid: their
  // documents stay on the phone, ./scope): the list shows the others.
  let onPhone: readonly ShopEntry[] | null = null;
  let waiting = shopsWaiting();
  let shops: ShopEntry[] | null = null;
  const user = currentSession()?.user.id ?? '';
  let outside = outOfScope(user);
  let asking = false;
  const askScope = (codes: string[]): void => {
    if (asking || !navigator.onLine || !scopeCheckDue(user, codes, Date.now())) return;
    asking = true;
    void checkScope(user, codes, askShops)
      .then((found) => {
        outside = found;
        if (onPhone) shops = withoutShops(onPhone, outside);
        draw();
      })
      .catch(() => undefined) // offline or refused: the last answer stands
      .finally(() => {
        asking = false;
      });
  };
  // What is due on the day of each drawing (worked out again for new shops, or a new day).
  let model: { of: ShopEntry[]; day: string; model: ListModel } | null = null;
  const modelNow = (): ListModel | null => {
    if (!shops) return null;
    const now = new Date();
    const day = shanghaiDay(now.getTime());
    if (model?.of !== shops || model.day !== day) model = { of: shops, day, model: compose(shops, now) };
    return model.model;
  };
  const drawCards = (): void => {
    list.replaceChildren(...shownDues.slice(0, limit).map((due) => shopCard(due, waiting.has(due.code))));
    const left = shownDues.length - Math.min(limit, shownDues.length);
    more.hidden = left === 0;
    more.dataset.left = String(left);
    more.textContent = left ? gt('list.more', { n: Math.min(left, PAGE), left }) : '';
    if (left && nearEnd) {
      // Watched afresh, the button is reported at once if it is still near the screen (a tall screen, a short page):
      // an observer that saw it near before reports only a change, and the next page waited for a tap.
      nearEnd.unobserve(more);
      nearEnd.observe(more);
    }
  };
  const draw = (): void => {
    const all = modelNow()?.dues;
    if (!all) return;
    const { done, total } = monthProgress(all);
    progress.textContent = gt('list.progress', { done, total });
    for (const button of filterButtons) button.setAttribute('aria-pressed', String(button.dataset.filter === filter));
    const q = search.value;
    // Filtering the sorted list gives the order sorting the filtered one would: the order is total (codes differ).
    shownDues = filterDues(q.trim() ? all.filter((d) => matches(d, q)) : all, filter);
    if (!all.length || !shownDues.length) {
      shownDues = [];
      more.hidden = true;
      if (!all.length) list.replaceChildren(notice(gt(downloading() ? 'list.downloading' : 'list.empty')));
      else list.replaceChildren(notice(q.trim() ? gt('list.noMatch', { q }) : gt('list.noneFiltered')));
    } else drawCards();
  };
  // With signal, keep the owners' photos of the shops still to visit for an offline day; once the text has come down
  // (the first download of a city grid on a poor signal must not share it with hundreds of photos).
  const keep = (): void => {
    const photos = getSyncStatus().pulling ? null : modelNow()?.photos;
    if (photos) void keepPhotos(photos);
  };
  const show = (found: ShopEntry[]): void => {
    onPhone = found;
    waiting = shopsWaiting();
    shops = withoutShops(found, outside);
    draw();
    keep();
    askScope(found.map((s) => s.facts.code));
  };
  const keyNow = async (): Promise<ModelKey> => ({ user, refused: refusedIds(), district: await loadDistrict() });
  // Saved for the next opening once the download has caught up (while it runs, the next batch is a moment away).
  const save = (): void => {
    if (!getSyncStatus().pulling) void data.save();
  };
  let reads = 0;
  const reload = (): Promise<void> => {
    reads++;
    return keyNow()
      .then((key) => data.refresh(key))
      .then((found) => {
        show(found);
        save();
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
    limit = PAGE;
    draw();
    remember();
  });
  search.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    const first = list.querySelector<HTMLAnchorElement>('a.g-shop');
    if (first) navigate(new URL(first.href).pathname);
  });
  // Listen first, then read: a batch the first sync writes while the list is read is not missed.
  whileShown(node, reload, 1000); // a first sync brings dozens of batches: redraw once a second at most
  // What waits changes without a local write (the server acknowledged it): the shops' 有记录待上传 follow the ledgers'
  // count. By the shops, not the number: one patrol acknowledged while another is written leaves the number as it was.
  let heard = false;
  let pulling = getSyncStatus().pulling;
  let wasDownloading = downloading();
  stopListening?.();
  // The day turns while the list is shown (the phone left on it overnight, or offline for the night): what is due is
  // worked out for the new day (a new week's self-checks, a new month's patrols, deadlines passed) when the worker
  // looks again, not at the next change of the data, which an offline phone may not have all day.
  const newDay = (): void => {
    if (!node.isConnected) return stopThis();
    if (model && model.day !== shanghaiDay(Date.now())) {
      draw();
      keep();
    }
  };
  const dayTimer = setInterval(newDay, 60_000);
  document.addEventListener('visibilitychange', newDay);
  const stop = onSyncStatus((status) => {
    if (!node.isConnected && heard) {
      stopThis();
      return;
    }
    heard = true;
    if (pulling && !status.pulling) {
      keep(); // the download has caught up: now the photos
      save();
    }
    pulling = status.pulling;
    const now = shopsWaiting();
    // An empty list says whether the shops are on their way or come once there is a network.
    const changed = downloading() !== wasDownloading;
    wasDownloading = downloading();
    if (changed || now.size !== waiting.size || [...now].some((code) => !waiting.has(code))) {
      waiting = now;
      draw();
    }
  });
  function stopThis(): void {
    stop();
    nearEnd?.disconnect();
    clearInterval(dayTimer);
    document.removeEventListener('visibilitychange', newDay);
  }
  stopListening = stopThis;
  // Opening the list: the saved one when nothing changed since (no read of every document), else read them all.
  void keyNow()
    .then((key) => data.open(key))
    .catch(() => null)
    .then((found) => {
      if (reads > 0) return; // a change came meanwhile: its read draws the list
      if (found) show(found);
      else void reload();
    });
  return { title: gt('title.shops'), node };
}
