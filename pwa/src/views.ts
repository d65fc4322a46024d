// The screens. Placeholders for now: later issues fill them (weekly check, patrol, dashboard).
import { h } from './dom';
import { t } from './i18n';
import { loginPath, type LoginRole, type Route } from './router';

export interface ShopScore {
  points: number;
  rank: number | null;
  of: number | null;
}

/** Reads the shop's score projection if this device has it; null when it does not. */
export type ScoreLookup = (code: string) => Promise<ShopScore | null>;

export interface View {
  title: string;
  node: HTMLElement;
}

function homeView(): View {
  return {
    title: t('app.name'),
    node: h(
      'section',
      { class: 'page home' },
      h('h1', {}, t('home.title')),
      h('p', { class: 'lead' }, t('home.intro')),
      h(
        'div',
        { class: 'cards' },
        h('article', { class: 'card' }, h('h2', {}, t('shop.weeklyCheck')), h('p', {}, t('home.weekly'))),
        h('article', { class: 'card' }, h('h2', {}, t('shop.patrol')), h('p', {}, t('home.monthly'))),
      ),
      h(
        'nav',
        { class: 'actions' },
        h('a', { class: 'button primary', href: loginPath('owner') }, t('home.ownerLogin')),
        h('a', { class: 'button', href: loginPath('grid') }, t('home.gridLogin')),
      ),
    ),
  };
}

function shopView(code: string, lookup: ScoreLookup): View {
  const score = h('dd', { class: 'figure', 'data-field': 'score' }, '—');
  const rank = h('dd', { class: 'figure', 'data-field': 'rank' }, '—');
  const rankOf = h('dd', { class: 'of', 'data-field': 'of' });
  const note = h('p', { class: 'muted' }, t('shop.notLoaded'));
  void lookup(code).then((found) => {
    if (!found) return;
    score.textContent = String(found.points);
    if (found.rank !== null) rank.textContent = String(found.rank);
    if (found.of !== null) rankOf.textContent = t('shop.rankOf', { of: found.of });
    note.remove();
  });
  return {
    title: `${code} · ${t('app.name')}`,
    node: h(
      'section',
      { class: 'page shop', 'data-shop': code },
      h('h1', {}, t('shop.title')),
      h('p', { class: 'shop-code' }, `${t('shop.code')} `, h('strong', {}, code)),
      h(
        'dl',
        { class: 'scoreboard' },
        h('div', {}, h('dt', {}, t('shop.score')), score),
        h('div', {}, h('dt', {}, t('shop.rank')), rank, rankOf),
      ),
      note,
      h(
        'nav',
        { class: 'actions' },
        h('a', { class: 'button primary', href: loginPath('owner', code) }, t('shop.ownerLogin')),
        h('a', { class: 'button', href: loginPath('grid', code) }, t('shop.gridLogin')),
      ),
    ),
  };
}

function loginView(role: LoginRole | null, shop: string | null): View {
  const roles: [LoginRole, string][] = [
    ['owner', t('login.owner')],
    ['grid', t('login.grid')],
    ['office', t('login.office')],
  ];
  return {
    title: `${t('login.title')} · ${t('app.name')}`,
    node: h(
      'section',
      { class: 'page login' },
      h('h1', {}, t('login.title')),
      shop && h('p', { class: 'shop-code' }, `${t('shop.code')} `, h('strong', {}, shop)),
      h(
        'nav',
        { class: 'actions' },
        ...roles.map(([r, label]) =>
          h(
            'a',
            {
              class: r === role ? 'button primary' : 'button',
              href: loginPath(r, shop ?? undefined),
              'aria-current': r === role ? 'page' : undefined,
            },
            label,
          ),
        ),
      ),
      h('p', { class: 'muted' }, t('login.soon')),
    ),
  };
}

function notFoundView(): View {
  return {
    title: `${t('notFound.title')} · ${t('app.name')}`,
    node: h(
      'section',
      { class: 'page not-found' },
      h('h1', {}, t('notFound.title')),
      h('nav', { class: 'actions' }, h('a', { class: 'button primary', href: '/' }, t('notFound.back'))),
    ),
  };
}

export function view(route: Route, lookup: ScoreLookup): View {
  switch (route.name) {
    case 'home':
      return homeView();
    case 'shop':
      return shopView(route.code, lookup);
    case 'login':
      return loginView(route.role, route.shop);
    case 'notFound':
      return notFoundView();
    case 'grid':
    case 'office':
      throw new Error(`${route.name} screens are rendered by their own module`);
  }
}
