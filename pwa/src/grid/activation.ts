// `/grid/s/{code}/activation`: issue an owner's one-time activation code (online only:
// POST /api/shops/{code}/activation), shown big with how to use it.
import { h } from '../dom';
import { apiJson, ApiError } from '../session';
import type { View } from '../views';
import { loadShop } from './data';
import { shopHref } from './efile';
import { gt } from './i18n';
import { notice, shortDay } from './ui';

interface Issued {
  shop: string;
  code: string;
  expires_at: string;
}

export function expiresText(at: string): string {
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return at;
  // 12月7日 07:27 (Dec 7 07:27): a numeric month read 12/7, which an owner may take for 12 July.
  const time = date.toLocaleTimeString('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit' });
  return `${shortDay(at)} ${time}`;
}

export function activationView(code: string): View {
  const back = h('a', { class: 'g-back', href: shopHref(code) }, '‹ ', code);
  const result = h('div', { class: 'g-activation', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'button primary', 'data-action': 'issue' }, gt('activation.issue'));
  const offline = notice(gt('activation.offline'), 'warn', { 'data-offline': '' });
  const node = h(
    'section',
    { class: 'page grid grid-activation', 'data-shop': code },
    back,
    h('h1', {}, gt('activation.title')),
    h('p', { class: 'lead' }, gt('activation.intro')),
    offline,
    h('div', { class: 'actions' }, button),
    result,
  );
  const showOnline = (): void => {
    if (!node.isConnected && node.dataset.shown) {
      window.removeEventListener('online', showOnline);
      window.removeEventListener('offline', showOnline);
      return;
    }
    node.dataset.shown = '1';
    offline.hidden = navigator.onLine;
  };
  window.addEventListener('online', showOnline);
  window.addEventListener('offline', showOnline);
  showOnline();
  void loadShop(code).then((shop) => {
    if (shop) back.replaceChildren('‹ ', shop.name);
  });

  button.addEventListener('click', () => {
    button.disabled = true;
    button.textContent = gt('activation.issuing');
    void apiJson<Issued>(`/api/shops/${encodeURIComponent(code)}/activation`, { method: 'POST' })
      .then((issued) => {
        result.replaceChildren(
          h('p', { class: 'muted' }, gt('activation.code')),
          h('p', { class: 'g-code', 'data-activation-code': issued.code }, issued.code),
          h('p', { class: 'muted' }, gt('activation.expires', { at: expiresText(issued.expires_at) })),
          h('p', { class: 'card' }, gt('activation.howto', { shop: issued.shop })),
        );
      })
      .catch((err: unknown) => {
        // fetch rejects with a TypeError when there is no network at all.
        const text =
          err instanceof ApiError
            ? gt('activation.failed', { reason: err.reason })
            : !navigator.onLine || err instanceof TypeError
              ? gt('activation.offline')
              : gt('activation.failed', { reason: String(err) });
        result.replaceChildren(notice(text, 'bad', { 'data-error': '' }));
      })
      .finally(() => {
        button.disabled = false;
        button.textContent = gt('activation.issue');
      });
  });
  return { title: `${gt('activation.title')} · ${code}`, node };
}
