// A camera button for the grid screens' own photos (other problems, verifications): resized and stored on
// the phone by ../events `savePhoto`, shown as thumbnails; photos of checklist items use ../checklist's.
import { store, stored } from '../device';
import { h } from '../dom';
import { isQuotaError, savePhoto } from '../events';
import { removableThumb } from '../photo-thumb';
import { gt } from './i18n';
import { thumbImage } from './ui';

// The same consent as the owner's form: one answer per phone.
const GPS_KEY = 'mashang.gpsConsent';

/** Whether the user agreed to add the position to photos. */
export function gpsConsent(): boolean {
  return stored(GPS_KEY) === '1';
}

/** A checkbox that asks for (and remembers) that consent. */
export function gpsCheckbox(label: string): HTMLElement {
  const box = h('input', { type: 'checkbox', name: 'gps' });
  box.checked = gpsConsent();
  box.addEventListener('change', () => store(GPS_KEY, box.checked ? '1' : '0'));
  return h('label', { class: 'choice g-consent' }, box, h('span', {}, label));
}

export interface PhotoPicker {
  node: HTMLElement;
  ids(): string[];
  /** Resolves when every photo taken so far is stored. */
  ready(): Promise<void>;
}

/**
 * `onChange` runs after a photo was added or removed; `saveDraft` saves the form's draft at once (a photo the user
 * removes leaves the phone once the draft no longer names it; a form without a draft leaves it out).
 */
export function photoPicker(
  shop: string,
  forKey: string,
  label: string,
  initial: string[],
  onChange: () => void,
  saveDraft: () => void = () => undefined,
): PhotoPicker {
  const ids = [...initial];
  const saving = new Set<Promise<unknown>>();
  const row = h('div', { class: 'g-thumbs' });
  const status = h('span', { class: 'muted', role: 'status' });
  const remove = (id: string): void => {
    const at = ids.indexOf(id);
    if (at < 0) return;
    ids.splice(at, 1);
    onChange();
  };
  const text = { label: gt('photo.remove'), ask: gt('photo.removeAsk') };
  const redraw = (): void => {
    row.replaceChildren(...ids.map((id) => removableThumb(thumbImage(id), id, text, remove, saveDraft)));
  };
  const inputId = `gp-${forKey}`;
  const input = h('input', {
    type: 'file',
    accept: 'image/*',
    capture: 'environment',
    id: inputId,
    'data-photo-for': forKey,
    class: 'visually-hidden',
  });
  input.addEventListener('change', () => {
    const files = Array.from(input.files ?? []);
    input.value = '';
    for (const file of files) {
      status.textContent = gt('patrol.saving');
      const job = savePhoto(shop, file, { gps: gpsConsent() })
        .then((id) => {
          ids.push(id);
          status.textContent = '';
          redraw();
          onChange();
        })
        .catch((err: unknown) => {
          status.textContent = isQuotaError(err)
            ? gt('problem.storageFull')
            : gt('problem.failed', { reason: String((err as Error)?.message ?? err) });
        })
        .finally(() => saving.delete(job));
      saving.add(job);
    }
  });
  redraw();
  return {
    node: h('div', { class: 'photos' }, h('label', { class: 'button photo', for: inputId }, label), input, status, row),
    ids: () => [...ids],
    async ready(): Promise<void> {
      while (saving.size) await Promise.allSettled([...saving]);
    },
  };
}
