// Checklist forms built from template documents (`district:template:*`): the owner's weekly self-check and
// the grid worker's patrol. Inputs are named by item id (the stable hooks tests and automation rely on).
import { localDb } from './db';
import { h } from './dom';
import { isQuotaError, savePhoto } from './events';
import { getLang, t } from './i18n';
import { allowsNotApplicable, isHazard, NOT_APPLICABLE, photoNeeded, type AnswerValue, type TemplateItem } from './items';
import { removableThumb } from './photo-thumb';
import { thumbImage } from './thumb-image';

export { isHazard, NOT_APPLICABLE, photoNeeded, type AnswerValue, type TemplateItem };

export interface Template {
  _id: string;
  type: 'template';
  version: number;
  title: { zh: string; en: string };
  categories: string[];
  items: TemplateItem[];
}

export interface Answer {
  /** `'na'` (不适用) only for an item whose template allows it (`not_applicable`). */
  value: AnswerValue;
  photos?: string[];
  note?: string;
}

/** Answers keyed by item id, for all templates of a form (item ids are unique per template). */
export type Answers = Record<string, Answer>;

/** A photo's thumbnail on the owner's screens (./thumb-image): offline, one the phone does not keep says 联网后显示照片;
 *  online, one that did not load says 加载失败，点按重试 (照片未上传 when the server does not have it). A form's own photo
 *  too: kept on the phone while the form is a draft (./draft-photos), it is no longer once the form was sent and its
 *  write failed (the phone full: the form stays a draft, its photos uploading) and its photos database was let go
 *  (./photo-retention), and its picture may not read or decode: then it comes from the server, as any other. */
export function photoThumb(id: string): HTMLImageElement {
  return thumbImage(id, {
    img: { alt: t('check.photo') },
    offline: { class: 'photo-offline muted', text: t('owner.photoOffline') },
    failed: t('owner.photoFailed'),
    missing: t('owner.photoMissing'),
  });
}

export interface ChecklistOptions {
  prefill?: Answers;
  /** Photos taken for items not answered yet (a restored draft), by item. */
  prefillPhotos?: Record<string, string[]>;
  withPhotos: boolean;
  /** Show the prefilled answers as "the owner said …" beside each item (the patrol verifies them). */
  verify?: boolean;
  onChange?: () => void;
  /** Save the form's draft now: a photo taken out of the form leaves the phone once the draft no longer names it. */
  saveDraft?: () => void;
  /** The shop the photos belong to (needed when withPhotos). */
  shop?: string;
  /** Ask for the position with each photo (the user consented). */
  gps?: boolean;
  /** A photo's thumbnail in the form, in the words of the screen it is on (the grid's patrol: ./grid/ui
   *  `thumbImage`); the owner's (`photoThumb`) by default. */
  thumb?: (id: string) => HTMLImageElement;
}

export interface ChecklistForm {
  node: HTMLElement;
  read(): Answers;
  photos(): Record<string, string[]>;
  /** Resolves when every photo chosen so far is resized and stored. */
  ready(): Promise<void>;
  /** What is missing (unanswered items, photos an item requires), as sentences for the user. */
  problems(): string[];
  /** Show each item's answer again (its hazard mark, whether its photo is required) after inputs were set in code. */
  refresh(): void;
  /** Say `answers` as the owner's beside each item (`verify`), in place of the prefill's: a newer self-check came. The
   *  inputs stay as they are. */
  showPrior(answers: Answers): void;
}

export function itemLabel(item: TemplateItem): string {
  return getLang() === 'en' ? item.label_en : item.label_zh;
}

export function templateTitle(template: Template): string {
  return getLang() === 'en' ? template.title.en : template.title.zh;
}

/** The template id checks refer to (without a `:v{n}` snapshot suffix). */
export function templateId(template: Template): string {
  return template._id.replace(/:v\d+$/, '');
}

/** Templates that apply to a shop category (or to all shops), from the local database. */
export async function applicableTemplates(shopCategory?: string | null): Promise<Template[]> {
  const res = await localDb().allDocs<Template>({
    startkey: 'district:template:',
    endkey: 'district:template:\ufff0',
    include_docs: true,
  });
  return pickTemplates(
    res.rows.flatMap((r) => (r.doc ? [r.doc as unknown as Template] : [])),
    shopCategory,
  );
}

/** The current (not snapshot) templates that apply to `category`; '*' means every category. */
export function pickTemplates(docs: Template[], category?: string | null): Template[] {
  return docs.filter(
    (d) =>
      d.type === 'template' &&
      !/:v\d+$/.test(d._id) &&
      Array.isArray(d.items) &&
      (d.categories.includes('*') || (!!category && d.categories.includes(category))),
  );
}

function valueText(item: TemplateItem, value: AnswerValue): string {
  if (value === NOT_APPLICABLE) return t('check.na');
  if (item.answer === 'number') return String(value);
  return value ? t('check.yes') : t('check.no');
}

export function buildChecklistForm(templates: Template[], opts: ChecklistOptions): ChecklistForm {
  const node = h('div', { class: 'checklist' });
  const photoIds: Record<string, string[]> = {};
  const saving = new Set<Promise<unknown>>();
  const items: TemplateItem[] = [];
  const changed = (): void => opts.onChange?.();

  for (const template of templates) {
    const section = h('section', { class: 'template', 'data-template': templateId(template) });
    section.append(h('h2', {}, templateTitle(template)));
    for (const item of template.items) {
      items.push(item);
      section.append(itemFieldset(item));
    }
    node.append(section);
  }

  function markHazard(fieldset: HTMLElement, item: TemplateItem): void {
    const value = readItem(item, fieldset);
    const hazard = isHazard(item, value);
    fieldset.classList.toggle('hazard', hazard);
    // Said in words too, not by the red border alone (WCAG 1.4.1); the patrol says it with its finding panel.
    const mark = fieldset.querySelector<HTMLElement>(':scope > .hazard-mark');
    if (mark) mark.hidden = !hazard;
    // 不适用: there is nothing to photograph (no gas), so the photo is not asked for.
    const photo = fieldset.querySelector<HTMLElement>(':scope > .photos > label.photo');
    if (photo && item.photo_required) {
      photo.textContent = photoNeeded(item, value) ? t('check.photoRequired') : t('check.takePhoto');
    }
  }

  /** "The owner said …" (`verify`). */
  function priorLine(item: TemplateItem, prior: Answer): HTMLElement {
    return h('p', { class: 'prior muted' }, t('check.ownerSaid', { answer: valueText(item, prior.value) }));
  }

  function itemFieldset(item: TemplateItem): HTMLElement {
    const prior = opts.prefill?.[item.id];
    const fieldset = h('fieldset', { class: 'item', 'data-item': item.id });
    fieldset.append(h('legend', {}, itemLabel(item)));
    if (opts.verify && prior) fieldset.append(priorLine(item, prior));
    if (item.answer === 'yes_no') {
      // A third choice, 不适用, where the template allows it (no extinguisher, no gas in the shop).
      const na = allowsNotApplicable(item);
      const row = h('div', { class: na ? 'yesno with-na' : 'yesno' });
      const choices: [string, string][] = [
        ['true', t('check.yes')],
        ['false', t('check.no')],
      ];
      if (na) choices.push([NOT_APPLICABLE, t('check.na')]);
      for (const [value, label] of choices) {
        const id = `q-${item.id}-${value}`;
        const input = h('input', { type: 'radio', name: item.id, value, id, required: true });
        if (prior && String(prior.value) === value) input.checked = true;
        input.addEventListener('change', () => {
          markHazard(fieldset, item);
          changed();
        });
        row.append(h('label', { class: 'choice', for: id }, input, h('span', {}, label)));
      }
      fieldset.append(row);
    } else {
      const id = `q-${item.id}`;
      const input = h('input', { type: 'number', name: item.id, id, min: '0', step: '1', inputmode: 'numeric', required: true });
      if (prior && typeof prior.value === 'number') input.value = String(prior.value);
      input.addEventListener('input', () => {
        markHazard(fieldset, item);
        changed();
      });
      fieldset.append(h('label', { class: 'number', for: id }, t('check.number')), input);
    }
    if (!opts.verify) fieldset.append(h('p', { class: 'hazard-mark', 'data-hazard-mark': '', hidden: true }, t('check.hazardMark')));
    if (opts.withPhotos) {
      // A patrol's prefill is the owner's answers: its own photos start from its draft only.
      const own = opts.prefillPhotos?.[item.id] ?? [];
      fieldset.append(photoPicker(item, opts.verify ? own : (prior?.photos ?? own)));
    }
    markHazard(fieldset, item);
    return fieldset;
  }

  function photoPicker(item: TemplateItem, initial: string[]): HTMLElement {
    photoIds[item.id] = [...initial];
    const thumbs = h('div', { class: 'thumbs' });
    const status = h('span', { class: 'muted', role: 'status' });
    const remove = (photo: string): void => {
      photoIds[item.id] = (photoIds[item.id] ?? []).filter((p) => p !== photo);
      changed();
    };
    const showThumb = (id: string): void => {
      thumbs.append(removableThumb((opts.thumb ?? photoThumb)(id), id, { label: t('check.removePhoto'), ask: t('check.removePhotoAsk') }, remove, opts.saveDraft));
    };
    initial.forEach(showThumb);
    const id = `p-${item.id}`;
    const input = h('input', {
      type: 'file',
      accept: 'image/*',
      capture: 'environment',
      id,
      'data-photo-for': item.id,
      class: 'visually-hidden',
    });
    input.addEventListener('change', () => {
      const files = Array.from(input.files ?? []);
      input.value = '';
      if (!opts.shop || files.length === 0) return;
      status.textContent = t('check.photoSaving');
      for (const file of files) {
        const job = savePhoto(opts.shop, file, { gps: opts.gps })
          .then((photo) => {
            (photoIds[item.id] ??= []).push(photo);
            showThumb(photo);
            status.textContent = '';
            changed();
          })
          .catch((err: unknown) => {
            // A full phone says so plainly (and what to do), not with the browser's raw IndexedDB error.
            status.textContent = isQuotaError(err)
              ? t('sync.storageFull')
              : t('check.photoFailed', { reason: String((err as Error)?.message ?? err) });
          })
          .finally(() => saving.delete(job));
        saving.add(job);
      }
    });
    const label = h(
      'label',
      { class: 'button photo', for: id },
      item.photo_required ? t('check.photoRequired') : t('check.takePhoto'),
    );
    return h('div', { class: 'photos' }, label, input, status, thumbs);
  }

  function readItem(item: TemplateItem, root: ParentNode = node): AnswerValue | undefined {
    if (item.answer === 'yes_no') {
      const checked = root.querySelector<HTMLInputElement>(`input[name="${CSS.escape(item.id)}"]:checked`);
      if (!checked) return undefined;
      if (checked.value === NOT_APPLICABLE) return allowsNotApplicable(item) ? NOT_APPLICABLE : undefined;
      return checked.value === 'true';
    }
    const input = root.querySelector<HTMLInputElement>(`input[name="${CSS.escape(item.id)}"]`);
    if (!input || input.value.trim() === '') return undefined;
    const n = Number(input.value);
    return Number.isInteger(n) && n >= 0 ? n : undefined;
  }

  return {
    node,
    read(): Answers {
      const out: Answers = {};
      for (const item of items) {
        const value = readItem(item);
        if (value === undefined) continue;
        const photos = photoIds[item.id] ?? [];
        out[item.id] = photos.length ? { value, photos: [...photos] } : { value };
      }
      return out;
    },
    photos(): Record<string, string[]> {
      return Object.fromEntries(Object.entries(photoIds).filter(([, ids]) => ids.length > 0).map(([k, v]) => [k, [...v]]));
    },
    async ready(): Promise<void> {
      while (saving.size) await Promise.allSettled([...saving]);
    },
    showPrior(answers: Answers): void {
      if (!opts.verify) return;
      for (const item of items) {
        const fieldset = node.querySelector<HTMLElement>(`fieldset[data-item="${CSS.escape(item.id)}"]`);
        const was = fieldset?.querySelector(':scope > .prior');
        const prior = answers[item.id];
        const line = prior ? priorLine(item, prior) : null;
        if (was && line) was.replaceWith(line);
        else if (was) was.remove();
        else if (line) fieldset?.querySelector(':scope > .yesno, :scope > label.number')?.before(line); // as built
      }
    },
    refresh(): void {
      for (const item of items) {
        const fieldset = node.querySelector<HTMLElement>(`fieldset[data-item="${CSS.escape(item.id)}"]`);
        if (fieldset) markHazard(fieldset, item);
      }
    },
    problems(): string[] {
      const out: string[] = [];
      for (const item of items) {
        const value = readItem(item);
        if (value === undefined) out.push(t('check.missingAnswer', { item: itemLabel(item) }));
        else if (opts.withPhotos && photoNeeded(item, value) && !(photoIds[item.id] ?? []).length)
          out.push(t('check.missingPhoto', { item: itemLabel(item) }));
      }
      return out;
    },
  };
}
