// `/grid/s/{code}/activation`: issue an owner's one-time activation code (online only:
// POST /api/shops/{code}/activation), shown big with how to use it.
import { h } from '../dom';
import { reasonIn } from '../i18n';
import { apiJson, ApiError } from '../session';
import type { View } from '../views';
import { loadShop } from './data';
import type { ShopDoc } from './docs';
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

/** The server's refusal in the worker's words; any other in the screen's part of the server's (`reasonIn`). */
export function failure(err: ApiError): string {
  if (err.status === 409) return gt('activation.closed');
  if (err.status === 404) return gt('activation.unknown');
  if (err.status === 401 || err.status === 403) return gt('activation.denied');
  return gt('activation.failed', { reason: err.status >= 500 ? gt('activation.serverError') : reasonIn(err.reason) });
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
  let shop: ShopDoc | null = null;
  void loadShop(code).then((found) => {
    shop = found;
    if (!found) return;
    back.replaceChildren('‹ ', found.name);
    if (found.status === 'closed') {
      // The server refuses a closed shop's code: say so before the tap, in words the worker can act on.
      button.disabled = true;
      button.before(notice(gt('activation.closed'), 'warn', { 'data-closed': '' }));
    }
  });

  button.addEventListener('click', () => {
    if (!navigator.onLine) {
      offline.hidden = false; // says why already; a code on the screen stays there
      return;
    }
    // A new code voids the one shown, and lets its holder reset an activated owner's PIN: ask before either.
    const shown = result.querySelector('[data-activation-code]') !== null;
    if (shown && !confirm(gt('activation.replaceShown'))) return;
    if (!shown && shop?.owner_activated && !confirm(gt('activation.replaceOwner'))) return;
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
            ? failure(err)
            : !navigator.onLine || err instanceof TypeError
              ? gt('activation.offline')
              : gt('activation.failed', { reason: String(err) });
        result.replaceChildren(notice(text, 'bad', { 'data-error': '' }));
      })
      .finally(() => {
        button.disabled = shop?.status === 'closed';
        button.textContent = gt('activation.issue');
      });
  });
  return { title: `${gt('activation.title')} · ${code}`, node };
}
