// 退出登录 for the owner's and the grid worker's screens: records not yet on the server are deleted with the
// session (a phone handed on must not upload them as the next user), and so are the drafts of forms not sent (the
// owner's self-check or rectification, the grid worker's patrol: with their photos, or answers and notes alone), so it
// asks first when there are some. A draft with nothing entered (a form only opened) is no reason to ask.
import { enteredDrafts, type DraftKind } from './drafts';
import { h } from './dom';
import { joinList, t } from './i18n';
import { signOut } from './session';

/** The question before signing out, or null when nothing would be lost: `waiting` records (and photos) the server
 *  has not acknowledged, and the kinds of the drafts holding something the user entered (`enteredDrafts`). */
export function signOutQuestion(waiting: number, drafts: readonly (DraftKind | 'other')[]): string | null {
  if (drafts.length === 0) return waiting > 0 ? t('owner.signOutPending', { n: waiting }) : null;
  const named = joinList(drafts.map((kind) => t(`owner.draft.${kind}`)));
  return waiting > 0 ? t('owner.signOutPendingDrafts', { n: waiting, drafts: named }) : t('owner.signOutDrafts', { drafts: named });
}

export function signOutButton(after: () => void): HTMLElement {
  const out = h('button', { type: 'button', class: 'link', 'data-action': 'sign-out' }, t('owner.signOut'));
  out.addEventListener('click', () => {
    void import('./db')
      .then((db) => db.pendingCounts())
      .then(async ({ docs, photos }) => {
        const question = signOutQuestion(docs + photos, enteredDrafts());
        if (question !== null && !confirm(question)) return;
        await signOut({ discardPending: question !== null });
        after();
      });
  });
  return out;
}
