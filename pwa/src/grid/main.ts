// The grid worker's screens. `rest` is the path after /grid, with the query:
//   ''                        my shops, what is due, search (?q=)
//   /scan                     the in-app QR scanner
//   /s/{code}                 the shop's e-file
//   /s/{code}/patrol          the monthly patrol
//   /s/{code}/verify/{key}    verifying a hazard's rectification
//   /s/{code}/activation      issuing the owner's activation code
import './grid.css';
import { h } from '../dom';
import { t } from '../i18n';
import { loginPath } from '../router';
import { currentSession, onSession } from '../session';
import type { View } from '../views';
import { activationView } from './activation';
import { alarmBanner, stopAlarmNews } from './alarm-news';
import { efileView } from './efile';
import { gt } from './i18n';
import { listView } from './list';
import { patrolView } from './patrol';
import { scannerView } from './scanner';
import { matchGridRoute } from './routes';
import { verifyView } from './verify';

function signInView(wrongRole: boolean): View {
  return {
    title: gt('signin.go'),
    node: h(
      'section',
      { class: 'page grid' },
      h('h1', {}, gt('title.shops')),
      h('p', {}, wrongRole ? gt('signin.wrongRole') : gt('signin.needed')),
      h('nav', { class: 'actions' }, h('a', { class: 'button primary', href: loginPath('grid') }, gt('signin.go'))),
    ),
  };
}

// The local database goes with the session: so does the watch for new alarms.
onSession((session) => {
  if (session?.user.role !== 'grid') stopAlarmNews();
});

export function gridView(rest: string): View {
  const session = currentSession();
  if (!session || session.user.role !== 'grid') return signInView(session !== null);
  const view = screen(rest);
  // A new alarm for one of the worker's shops shows on every screen: above the screen, which redraws its own
  // content as the local database changes.
  return { ...view, node: h('div', { class: 'g-shell' }, alarmBanner(), view.node) };
}

function screen(rest: string): View {
  const route = matchGridRoute(rest);
  switch (route.name) {
    case 'list':
      return listView(rest);
    case 'scan':
      return scannerView();
    case 'shop':
      return efileView(route.code);
    case 'patrol':
      return patrolView(route.code);
    case 'verify':
      return verifyView(route.code, route.hazard);
    case 'activation':
      return activationView(route.code);
    case 'notFound':
      return {
        title: t('notFound.title'),
        node: h(
          'section',
          { class: 'page grid' },
          h('h1', {}, t('notFound.title')),
          h('nav', { class: 'actions' }, h('a', { class: 'button primary', href: '/grid' }, gt('shop.back'))),
        ),
      };
  }
}
