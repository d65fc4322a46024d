// 退出登录 for the owner's and the grid worker's screens: records not yet on the server are deleted with the
// session (a phone handed on must not upload them as the next user), so it asks first when there are some.
import { h } from './dom';
import { t } from './i18n';
import { signOut } from './session';

export function signOutButton(after: () => void): HTMLElement {
  const out = h('button', { type: 'button', class: 'link', 'data-action': 'sign-out' }, t('owner.signOut'));
  out.addEventListener('click', () => {
    void import('./db')
      .then((db) => db.countPending())
      .then(async (n) => {
        if (n > 0 && !confirm(t('owner.signOutPending', { n }))) return;
        await signOut({ discardPending: n > 0 });
        after();
      });
  });
  return out;
}
