// The safety office's screens (desktop layout of the same PWA). `rest` is the path after /office, with the query;
// this module routes within it. Office sessions live in memory only (session.ts), so a reload asks to sign in.
import './office.css';
import { h } from '../dom';
import { navigate, refresh } from '../router';
import { currentSession, signIn, signOut } from '../session';
import { authReason, type View } from '../views';
import { ApiError, send } from './api';
import { joinList } from '../i18n';
import { label, ot, type OfficeKey } from './i18n';
import { ownSubdistrict, reachLine, subdistricts } from './reach';
import { field, form, input, submit } from './ui';
import { countedTitle, listen, stopWatching, watchAlarms } from './watch';

export type Screen = (query: URLSearchParams, path: string[]) => HTMLElement;

const SCREENS: [string, OfficeKey, () => Promise<Screen>][] = [
  ['', 'nav.overview', async () => (await import('./overview')).overview],
  ['alarms', 'nav.alarms', async () => (await import('./alarms')).alarms],
  ['ranking', 'nav.ranking', async () => (await import('./ranking')).ranking],
  ['shops', 'nav.shops', async () => (await import('./shops')).shops],
  ['workers', 'nav.workers', async () => (await import('./workers')).workers],
  ['sync', 'nav.sync', async () => (await import('./syncmon')).syncMonitor],
  ['registry', 'nav.registry', async () => (await import('./registry')).registry],
  ['rules', 'nav.rules', async () => (await import('./rules')).rules],
  ['rewards', 'nav.rewards', async () => (await import('./rewards')).rewards],
  ['exports', 'nav.exports', async () => (await import('./exports')).exports],
];

/** Split `rest` ('/shops/S0001?x=1') into its path segments and query. */
export function parseRest(rest: string): { path: string[]; query: URLSearchParams } {
  const at = rest.indexOf('?');
  const path = (at === -1 ? rest : rest.slice(0, at)).split('/').filter((p) => p !== '').map(safeDecode);
  return { path, query: new URLSearchParams(at === -1 ? '' : rest.slice(at + 1)) };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function officePath(screen: string, ...more: string[]): string {
  return ['/office', screen, ...more.map(encodeURIComponent)].filter((p) => p !== '').join('/');
}

function signInView(): View {
  const username = input('username', { autocomplete: 'username', required: true });
  const password = input('password', { type: 'password', autocomplete: 'current-password', required: true });
  const f = form({ 'data-form': 'office-signin' }, [
    field(ot('signin.username'), username),
    field(ot('signin.password'), password),
    submit(ot('signin.submit')),
  ], async (data) => {
    const answer = await send<{ token: string; user: { id: string; role: string; name?: string; subdistrict?: string | null } }>(
      'POST',
      '/api/auth/login',
      { username: String(data.get('username') ?? ''), password: String(data.get('password') ?? '') },
    ).catch((err: unknown) => {
      // The server's reason is English ("Wrong username or password."): said as the phones' sign-in says it.
      throw err instanceof ApiError ? new Error(authReason(err)) : err;
    });
    if (answer.user.role !== 'office') throw new Error(ot('signin.wrongRole'));
    signIn(answer);
    refresh();
  });
  return {
    title: `${ot('signin.title')} · ${ot('office.title')}`,
    node: h(
      'section',
      { class: 'page office office-signin' },
      h('h1', {}, ot('signin.title')),
      f,
      h('p', { class: 'muted' }, ot('signin.note')),
    ),
  };
}

interface NewAlarm {
  change: string;
  alarm: { shop: string; shop_name?: string | null; items: { item: string }[] };
}

/** The menu's count of open alarms and the banner of a new one, on every screen (see ./watch). */
function alarmWatch(node: HTMLElement, count: HTMLElement, banner: HTMLElement, onDesk: boolean): void {
  const text = h('span', { 'data-field': 'alarm' });
  const dismiss = h('button', { type: 'button', class: 'btn', 'data-action': 'dismiss' }, ot('alarms.dismiss'));
  dismiss.addEventListener('click', () => (banner.hidden = true));
  const link = onDesk ? '' : h('a', { href: officePath('alarms'), 'data-action': 'open-desk' }, ot('alarms.openDesk'));
  banner.replaceChildren(text, ' ', link, ' ', dismiss);
  watchAlarms();
  listen({
    owner: node, // the previous screen's layout stops hearing it
    event: (event) => {
      if (event.event !== 'alarm') return;
      const { change, alarm } = JSON.parse(event.data) as NewAlarm;
      if (change !== 'new') return;
      text.textContent = ot('alarms.new', {
        shop: alarm.shop_name ?? alarm.shop,
        items: joinList(alarm.items.map((i) => label('item', i.item))),
      });
      banner.hidden = false;
    },
    state: (state) => (node.dataset.alarmStream = state),
    counts: (c) => {
      const n = c.open ?? 0;
      count.textContent = String(n);
      count.dataset.openAlarms = String(n);
      count.hidden = n === 0;
      if (node.isConnected) document.title = countedTitle(document.title, n);
    },
  });
}

/** Which part of the district the office serves, under the title: its sub-district (by name once the registry
 *  answers, by code until then or without it) or the whole district. */
function reachBadge(): HTMLElement {
  const own = ownSubdistrict();
  const line = h(
    'p',
    { class: 'office-reach', 'data-reach': own === null ? 'district' : 'subdistrict', 'data-subdistrict': own ?? undefined },
    reachLine(own, []),
  );
  if (own !== null) {
    void subdistricts()
      .then((known) => (line.textContent = reachLine(own, known)))
      .catch(() => undefined); // the code stays
  }
  return line;
}

export function officeView(rest: string): View {
  const session = currentSession();
  if (!session || session.user.role !== 'office') return signInView();
  const { path, query } = parseRest(rest);
  const key = path[0] ?? '';
  const found = SCREENS.find(([k]) => k === key);
  const content = h('div', { class: 'office-content', 'aria-live': 'polite' });
  const count = h('span', { class: 'count', hidden: true, title: ot('alarms.openCount') });
  const nav = h(
    'nav',
    { class: 'office-nav', 'aria-label': ot('office.title') },
    ...SCREENS.map(([k, name]) =>
      h(
        'a',
        { href: officePath(k), 'data-screen': k || 'overview', 'aria-current': k === key ? 'page' : undefined },
        ot(name),
        k === 'alarms' ? count : '',
      ),
    ),
  );
  const out = h('button', { type: 'button', class: 'btn sign-out' }, ot('nav.signOut'));
  out.addEventListener('click', () => {
    stopWatching();
    void signOut().finally(() => navigate('/'));
  });
  const who = h('p', { class: 'office-user' }, session.user.name ?? session.user.username ?? session.user.id);
  const reach = reachBadge();
  const banner = h('p', { class: 'new-alarm', role: 'alert', hidden: true });
  const node = h(
    'section',
    { class: 'page office', 'data-screen': key || 'overview' },
    h('aside', { class: 'office-side' }, h('p', { class: 'office-title' }, ot('office.title')), reach, nav, who, out),
    h('div', { class: 'office-main' }, banner, content),
  );
  alarmWatch(node, count, banner, key === 'alarms');
  if (!found) {
    content.append(h('h1', {}, '404'));
  } else {
    void found[2]()
      .then((screen) => content.replaceChildren(screen(query, path.slice(1))))
      .catch((err: unknown) => content.replaceChildren(h('p', { class: 'error' }, String(err))));
  }
  return { title: countedTitle(`${ot(found ? found[1] : 'office.title')} · ${ot('office.title')}`), node };
}
