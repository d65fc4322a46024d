// `/grid/s/{code}/verify/{hazard key}`: the grid worker's verdict on an owner's rectification (or on a fix made
// on the spot): one `verification` event with `passed` true/false, a note and photos.
import { h } from '../dom';
import { appendEvent, isQuotaError } from '../events';
import { navigate } from '../router';
import type { View } from '../views';
import { loadAllTemplates, loadShopFile } from './data';
import { rectificationsOf } from './due';
import { shopHref } from './efile';
import { flash } from '../flash';
import { gt } from './i18n';
import { photoPicker } from './photos';
import { verificationFields } from './verify-fields';
import { hazardName, notice, savedRecords, severityBadge, shortDay, thumbs } from './ui';

export function verifyView(code: string, hazardKey: string): View {
  const node = h('section', { class: 'page grid grid-verify', 'data-shop': code });
  const back = h('a', { class: 'g-back', href: shopHref(code) }, '‹ ', code);
  node.append(back, h('h1', {}, gt('verify.title')));
  void (async () => {
    const file = await loadShopFile(code);
    const hazardId = `${code}:hazard:${hazardKey}`;
    const hazard = file?.hazards.find((hz) => hz._id === hazardId) ?? null;
    if (!file || !hazard) {
      node.append(notice(gt('verify.missing'), 'warn'));
      return;
    }
    back.replaceChildren('‹ ', file.shop.name);
    const templates = await loadAllTemplates();
    const fix = rectificationsOf(file, hazard)[0] ?? null;

    const form = h('form', { class: 'g-verify-form', novalidate: true, 'data-hazard': hazardId });
    const note = h('textarea', { name: 'note', rows: '3' });
    const picker = photoPicker(code, 'verification', gt('verify.photo'), [], () => undefined);
    const problem = h('p', { class: 'g-notice bad', role: 'alert', hidden: true });
    const submit = h('button', { type: 'submit', class: 'button primary' }, gt('verify.submit'));
    const choice = (value: 'true' | 'false', label: string): HTMLElement =>
      h(
        'label',
        { class: 'choice' },
        h('input', { type: 'radio', name: 'passed', value, required: true }),
        h('span', {}, label),
      );
    form.append(
      h('p', {}, gt('verify.hazard', { item: hazardName(templates, hazard.item) }), ' ', severityBadge(hazard.severity)),
      h('p', { class: 'muted' }, gt('efile.found', { day: shortDay(hazard.found_at) }), ' · ', gt('efile.deadline', { day: shortDay(hazard.deadline) })),
      hazard.note ? h('p', {}, hazard.note) : '',
      thumbs(hazard.photos ?? []) ?? '',
      fix
        ? h(
            'div',
            { class: 'card' },
            h('strong', {}, gt('verify.rectification', { day: shortDay(fix.performed_at) })),
            fix.note ? h('p', {}, fix.note) : null,
            thumbs(fix.photos ?? []) ?? '',
          )
        : notice(gt('verify.noRectification')),
      h('fieldset', { class: 'item' }, h('legend', {}, gt('verify.title')), h('div', { class: 'yesno' }, choice('true', gt('verify.passed')), choice('false', gt('verify.failed')))),
      h('label', { class: 'g-field' }, h('span', {}, gt('verify.note')), note),
      picker.node,
      problem,
      h('div', { class: 'actions' }, submit),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const picked = form.querySelector<HTMLInputElement>('input[name=passed]:checked');
      if (!picked) {
        problem.textContent = gt('verify.choose');
        problem.hidden = false;
        return;
      }
      submit.disabled = true;
      void (async () => {
        try {
          await picker.ready();
          const id = await appendEvent(verificationFields(hazard, fix, picked.value === 'true', note.value, picker.ids()));
          flash(savedRecords('verify', [id]));
          navigate(shopHref(code));
        } catch (err) {
          problem.textContent = isQuotaError(err)
            ? gt('problem.storageFull')
            : gt('problem.failed', { reason: String((err as Error)?.message ?? err) });
          problem.hidden = false;
        } finally {
          submit.disabled = false;
        }
      })();
    });
    node.append(form);
  })();
  return { title: `${gt('verify.title')} · ${code}`, node };
}
