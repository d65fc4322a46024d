// The patrol form's 核实店主自查: the owner's self-checks the patrol verifies (`verified_self_checks`), every one since
// the shop's last patrol, ticked unless the worker unticks it; the list follows the shop's documents while the form
// is open (the owner's self-check of this morning, reaching the phone mid-visit), keeping what the worker ticked.
import { h } from '../dom';
import type { SelfCheckDoc, TemplateDoc } from './docs';
import type { ShopFile } from './due';
import { gt } from './i18n';
import { hazardItems, selfChecksToVerify, selfChecksToVerifyNow, type PatrolDraft } from './patrol-logic';
import { shortDay } from './ui';

export interface VerifyBox {
  node: HTMLElement;
  /** List the self-checks to verify of the shop's file as it is now (`selfChecksToVerifyNow`), into `draft.verified`. */
  follow(file: ShopFile): void;
}

/** The box, drawn from `opened` with `draft.verified` ticked (a fresh draft ticks them all, a restored one says which);
 *  `changed` is told when the worker ticks or unticks one. */
export function verifyBox(opened: ShopFile, templates: readonly TemplateDoc[], draft: PatrolDraft, changed: () => void): VerifyBox {
  const legend = h('legend', {}, gt('patrol.verifyTitle'));
  const node = h('fieldset', { class: 'g-verify' }, legend);
  const none = h('p', { class: 'muted' }, gt('patrol.verifyNone'));
  const hazardCount = (check: SelfCheckDoc): number => {
    const template = templates.find((t) => t._id === check.template);
    return template ? hazardItems(template, check.answers).length : 0;
  };
  const rows = new Map<string, { row: HTMLElement; box: HTMLInputElement }>();
  const rowOf = (check: SelfCheckDoc): { row: HTMLElement; box: HTMLInputElement } => {
    const known = rows.get(check._id);
    if (known) return known;
    const box = h('input', { type: 'checkbox', name: 'verified_self_checks', value: check._id });
    box.addEventListener('change', () => {
      draft.verified = [...node.querySelectorAll<HTMLInputElement>('input:checked')].map((b) => b.value);
      changed();
    });
    const row = h(
      'label',
      { class: 'choice g-verify-item' },
      box,
      h('span', {}, gt('patrol.verifyItem', { day: shortDay(check.performed_at), n: hazardCount(check) })),
    );
    rows.set(check._id, { row, box });
    return { row, box };
  };
  // Those the draft says were listed (`PatrolDraft.offered`): a restored draft keeps the worker's ticks and unticks,
  // and ticks one synced in since. A draft that does not say: those listed as the form opens.
  const offered = new Set(draft.offered ?? selfChecksToVerify(opened.selfChecks, opened.patrols).map((c) => c._id));

  function follow(file: ShopFile): void {
    const { list, verified } = selfChecksToVerifyNow(file.selfChecks, file.patrols, draft.verified, offered);
    draft.verified = verified;
    const ticked = new Set(verified);
    for (const check of list) offered.add(check._id);
    draft.offered = [...offered];
    const shown = list.map((check) => {
      const { row, box } = rowOf(check);
      box.checked = ticked.has(check._id);
      return row;
    });
    for (const id of [...rows.keys()]) if (!list.some((c) => c._id === id)) rows.delete(id);
    const children = shown.length ? shown : [none];
    // The rows move only when the list changed: a box the worker is on keeps its focus through a sync.
    const now = [...node.children].slice(1);
    if (now.length !== children.length || now.some((el, i) => el !== children[i])) node.replaceChildren(legend, ...children);
  }
  follow(opened);
  return { node, follow };
}
