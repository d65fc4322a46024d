// Rules and checklists: the versioned point rules as a form (the server's validation errors shown at the field
// they name), the checklist templates as forms with the same (title, shop categories, one row per item), and the
// shipped modules (食品安全, 环境卫生) to add. They are the district's: a sub-district's office sees them read-only.
import { h } from '../dom';
import { attempt, get, type Refusal } from './api';
import { when } from './format';
import { getLang, joinList, reasonIn } from '../i18n';
import { label, type OfficeKey, ot } from './i18n';
import type { Screen } from './main';
import { type Names, personName, staffNames } from './people';
import { isScoped } from './reach';
import { listOf, loadInto, section, str, submit, table } from './ui';

type Doc = Record<string, unknown>;
const META = new Set(['_id', '_rev', 'type', 'schema', 'version', 'updated_by', 'updated_at']);

/** "hazard_cost.general: must be ≥ 0; alarm_threshold: required" → [["hazard_cost.general", "must be ≥ 0"], ...] */
export function fieldErrors(reason: string): [string, string][] {
  return reason
    .split('; ')
    .map((part) => {
      const m = /^([A-Za-z_][\w.[\]-]*): (.+)$/.exec(part.trim());
      return m ? ([m[1] ?? '', m[2] ?? ''] as [string, string]) : (['', part.trim()] as [string, string]);
    })
    .filter(([, msg]) => msg !== '');
}

/** Flatten a rules document to dotted fields (one level of nesting: hazard_cost.general). */
export function flatten(doc: Doc): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(doc)) {
    if (META.has(k)) continue;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v as Doc)) out.push([`${k}.${k2}`, v2]);
    } else out.push([k, v]);
  }
  return out;
}

/** The form's values back into a document: numbers stay numbers, checkboxes booleans. */
export function unflatten(fields: [string, unknown][]): Doc {
  const doc: Doc = {};
  for (const [path, value] of fields) {
    const [a, b] = path.split('.', 2) as [string, string | undefined];
    if (b === undefined) doc[a] = value;
    else doc[a] = { ...((doc[a] as Doc | undefined) ?? {}), [b]: value };
  }
  return doc;
}

// The server's reasons for the refusals an office user meets, said in the screen's language (others as written).
const REASONS: [RegExp, (m: RegExpExecArray) => string][] = [
  [/at least 1 point/, () => ot('rules.err.threshold')],
  [/greater than or equal to (\d+)/, (m) => ot('rules.err.atLeast', { n: m[1] ?? '0' })],
  [/less than or equal to (\d+)/, (m) => ot('rules.err.atMost', { n: m[1] ?? '0' })],
  [/valid integer|whole number/, () => ot('rules.err.integer')],
  [/date such as|valid date/, () => ot('rules.err.date')],
  [/not a time zone/, () => ot('rules.err.timezone')],
  [/cannot exceed working_group_window_months/, () => ot('rules.err.window')],
  [/serious ≤ major ≤ general/, () => ot('rules.err.deadlines')],
  [/(?:^|（)(\S+) is not a shop category/, (m) => ot('rules.err.category', { c: m[1] ?? '' })],
];

/** A refusal's message in the screen's language when it is a common one, else as the server wrote it. */
export function explainReason(message: string): string {
  for (const [pattern, say] of REASONS) {
    const m = pattern.exec(message);
    if (m) return say(m);
  }
  return message;
}

/** A field's refusal as the form shows it: a common one in the screen's own words, else the server's part in the
 *  screen's language (`reasonIn`: "编号 x 重复（items: every item needs its own id）"), without the field's path the
 *  English repeats (the form names the field). */
export function fieldReason(path: string, message: string): string {
  const explained = explainReason(message);
  if (explained !== message) return explained;
  const said = reasonIn(message);
  return path && said.startsWith(`${path}: `) ? said.slice(path.length + 2) : said;
}

/** A field of the rules by its name on the form (严重隐患扣分), not its key (hazard_cost.serious). */
const ruleField = (path: string): string => label('rule', path);

/** A field of a checklist by its name on the form: 第 3 项 · 编号 for `items[2].id`, 适用店铺类别 for `categories`. */
export function templateField(path: string): string {
  const named: Record<string, string> = {
    'title.zh': ot('rules.titleZh'),
    'title.en': ot('rules.titleEn'),
    categories: ot('rules.categories'),
    items: ot('rules.items'),
  };
  if (path in named) return named[path] ?? path;
  const m = /^items\[(\d+)\](?:\.(\w+))?/.exec(path);
  if (!m) return path;
  const row = ot('rules.itemNo', { n: String(Number(m[1]) + 1) });
  const head = m[2] === undefined ? undefined : (HEADS as Record<string, OfficeKey | undefined>)[m[2]];
  return head ? `${row} · ${ot(head)}` : row;
}

function showErrors(f: HTMLElement, summary: HTMLElement, refusal: Refusal, fieldName = ruleField): void {
  summary.className = 'form-status error';
  if (refusal.status === 403 || refusal.status === 409) {
    // Not a field's error: the office may not do this (a sub-district's office editing the district's rules), or
    // someone saved a newer version meanwhile (the reason says to reload).
    summary.replaceChildren(`${ot('common.failed')}: ${reasonIn(refusal.reason) || refusal.error}`);
    return;
  }
  const errs = fieldErrors(refusal.reason || refusal.error);
  // Each said with the field's name on the form (严重隐患扣分), not its key (hazard_cost.serious).
  const said = errs.map(([path, msg]) => (path ? `${fieldName(path)}: ${fieldReason(path, msg)}` : fieldReason('', msg)));
  summary.replaceChildren(`${ot('rules.invalid')}: ${said.join('; ') || reasonIn(refusal.reason) || refusal.error}`);
  for (const [path, msg] of errs) {
    const slot = f.querySelector<HTMLElement>(`[data-error-for="${CSS.escape(path)}"]`);
    if (slot) slot.textContent = fieldReason(path, msg);
  }
}

/** A version just saved: the form drawn again from the server says so (已保存 · 第 4 版). */
export interface Saved {
  id: string;
  version: number;
}

/** After a save: the form drawn again with the new version and a line saying it was saved, or, for a form saved as
 *  it was, a line saying no version was made (the server makes none, so no shop is projected again for nothing). */
function savedOrSame(answer: Doc, summary: HTMLElement, reload: (saved: Saved) => void): void {
  if (answer.unchanged !== true) {
    const doc = (answer.rules ?? answer) as Doc;
    reload({ id: str(doc._id), version: Number(doc.version) });
    return;
  }
  summary.className = 'form-status ok';
  summary.setAttribute('data-unchanged', '');
  summary.replaceChildren(ot('rules.unchanged'));
}

/** The line of a form drawn again after its save, when `saved` is this document's new version. */
function sayIfSaved(summary: HTMLElement, id: unknown, saved: Saved | undefined): void {
  if (!saved || saved.id !== str(id)) return;
  summary.className = 'form-status ok';
  summary.dataset.saved = String(saved.version);
  summary.replaceChildren(ot('rules.saved', { v: String(saved.version) }));
}

/** Shown, not edited: every control of `root` disabled (a sub-district's office reads the district's rules). */
function lockControls(root: HTMLElement): void {
  for (const c of root.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>('input, select, textarea')) {
    c.disabled = true;
  }
}

/** Today in `timeZone` (the rules' zone, where their days are counted) as YYYY-MM-DD; the device's day when the
 *  zone is not one (the server names that field's error). */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now);
  } catch {
    parts = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now);
  }
  const part = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** Whether a version in force from `day` starts before today: saved, it scores every shop again from that day
 *  (what was scored since is counted anew, and the rankings of those months may change). */
export function startsBeforeToday(day: string, timeZone: string, now: Date = new Date()): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(day.trim()) && day.trim() < todayIn(timeZone, now);
}

/** The day a new version is in force from unless the officer picks another: today in the rules' zone, so a save
 *  scores only what happens from now on (the current version's own day, 1 January, scored the whole year again at
 *  every save); a version already set for a later day keeps its day (next year's rules being prepared). */
export function defaultEffectiveFrom(current: string, timeZone: string, now: Date = new Date()): string {
  const today = todayIn(timeZone, now);
  return /^\d{4}-\d{2}-\d{2}$/.test(current) && current > today ? current : today;
}

export function rulesForm(
  answer: Doc,
  names: Names,
  reload: (saved?: Saved) => void,
  editable: boolean,
  saved?: Saved,
): HTMLElement {
  const rules = (answer.rules ?? answer) as Doc;
  const version = rules.version;
  const fields = flatten(rules);
  const summary = h('p', { class: 'form-status', role: 'status' });
  sayIfSaved(summary, rules._id, saved);
  const currentDay = str(rules.effective_from);
  const newDay = editable ? defaultEffectiveFrom(currentDay, str(rules.timezone) || 'Asia/Shanghai') : currentDay;
  const inputs = fields.map(([path, field]) => {
    const value = path === 'effective_from' ? newDay : field;
    const attrs: Record<string, string | boolean> = { name: path, 'data-kind': typeof value };
    let control: HTMLInputElement;
    if (typeof value === 'boolean') control = h('input', { ...attrs, type: 'checkbox', checked: value });
    else if (typeof value === 'number') control = h('input', { ...attrs, type: 'number', step: 'any', value: String(value) });
    else control = h('input', { ...attrs, type: 'text', value: str(value) });
    return h('label', { class: 'field' }, h('span', { class: 'label', title: path }, label('rule', path)), control,
      h('small', { class: 'field-error', 'data-error-for': path }));
  });
  // A version in force from a day already past scores every shop again from that day: said while the form
  // holds such a day (one the officer chose: the form offers today), and asked again before such a version is saved.
  const past = h('p', { class: 'notice warn', role: 'alert', 'data-warning': 'past-effective-from' });
  const fromToday = editable && newDay !== currentDay
    ? h('p', { class: 'muted', 'data-effective-default': newDay }, ot('rules.effectiveToday', { v: str(version), day: currentDay }))
    : null;
  const f = h('form', { class: 'office-form rules-form', 'data-form': 'rules' },
    h('p', {}, ot('rules.version', { v: str(version) })), h('div', { class: 'grid-fields' }, ...inputs),
    fromToday, editable ? past : null, editable ? submit(ot('rules.saveVersion')) : null, summary);
  if (!editable) lockControls(f);
  const text = (name: string): string => {
    const el = f.elements.namedItem(name);
    return el instanceof HTMLInputElement ? el.value.trim() : '';
  };
  const pastDay = (): string | null => {
    const day = text('effective_from');
    return startsBeforeToday(day, text('timezone') || str(rules.timezone) || 'Asia/Shanghai') ? day : null;
  };
  const showPast = (): void => {
    const day = pastDay();
    past.hidden = day === null;
    past.textContent = day === null ? '' : ot('rules.pastEffective', { day });
  };
  f.addEventListener('input', showPast);
  showPast();
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!editable) return;
    for (const slot of f.querySelectorAll('[data-error-for]')) slot.textContent = '';
    summary.removeAttribute('data-saved');
    const values: [string, unknown][] = fields.map(([path]) => {
      const el = f.elements.namedItem(path) as HTMLInputElement;
      if (el.dataset.kind === 'boolean') return [path, el.checked];
      if (el.dataset.kind === 'number') return [path, el.value.trim() === '' ? null : Number(el.value)];
      return [path, el.value];
    });
    // Saved as it was, the server makes no version and scores nothing again: nothing to confirm then. The day
    // offered (today) is no change of its own: with nothing else changed the version's own day goes back.
    const differs = ([path, value]: [string, unknown], i: number): boolean =>
      path !== 'effective_from' && String(value ?? '') !== String(fields[i]?.[1] ?? '');
    const day0 = values.findIndex(([path]) => path === 'effective_from');
    if (!values.some(differs) && day0 >= 0 && values[day0]?.[1] === newDay) values[day0] = ['effective_from', currentDay];
    const changed = values.some(([, value], i) => String(value ?? '') !== String(fields[i]?.[1] ?? ''));
    const day = pastDay();
    if (changed && day !== null && !confirm(ot('rules.pastConfirm', { day }))) {
      summary.className = 'form-status';
      summary.replaceChildren(ot('rules.pastKept'));
      return;
    }
    void attempt<Doc>('PUT', '/api/office/rules', { ...unflatten(values), version }).then((r) => {
      if (r.ok) savedOrSame(r.value, summary, reload);
      else showErrors(f, summary, r.refusal);
    });
  });
  const changes = listOf<Doc>(answer.changes);
  return h('div', {}, f, changes.length
    ? table(
        [
          { label: ot('rules.versionHeader'), cell: (c: Doc) => str(c.version), cls: 'num' },
          { label: ot('rules.effectiveFrom'), cell: (c: Doc) => str(c.effective_from) },
          { label: ot('common.by'), cell: (c: Doc) => personName(names, str(c.by)) },
          { label: ot('common.time'), cell: (c: Doc) => when(c.at) },
        ],
        changes,
        { 'data-table': 'rule-changes' },
      )
    : null);
}

function shortId(id: string): string {
  return id.replace(/^district:template:/, '');
}

/** A shop category code the templates match, or `*` for every shop (as `server/importer.py` spells them). */
export const CATEGORIES = ['*', 'food', 'retail', 'hair_salon', 'hardware', 'pharmacy', 'ebike_repair', 'laundry', 'recreation', 'other'];
const SEVERITIES = ['general', 'major', 'serious'];
// The items table's columns (the form's fields, in order).
const HEADS = {
  id: 'rules.item.id',
  label_zh: 'rules.item.labelZh',
  label_en: 'rules.item.labelEn',
  answer: 'rules.item.answer',
  hazard_when: 'rules.item.hazardWhen',
  severity: 'rules.item.severity',
  photo_required: 'rules.item.photo',
  not_applicable: 'rules.item.notApplicable',
  points: 'rules.item.points',
} as const;
// The table's headings: the two labels of an item share one column, one above the other, so that the table fits a
// 1366 px screen's card (side by side they pushed it 240 px wider than the card).
const COLUMN_HEADS: OfficeKey[] = ['rules.item.id', 'rules.item.labels', ...Object.values(HEADS).slice(3)];

/** One checklist item as the form's row edits it (text inputs hold strings). */
export interface ItemRow {
  id: string;
  label_zh: string;
  label_en: string;
  answer: 'yes_no' | 'number';
  hazard_if_yes: boolean; // a yes/no item: a hazard when the answer is yes (else when it is no)
  gt: string; // a number item: a hazard above this
  severity: string;
  photo_required: boolean;
  not_applicable: boolean; // a yes/no item: the owner may answer 不适用 (no gas in the shop)
  points: string; // empty: the rules' cost of the severity
}

export function rowOf(item: Doc): ItemRow {
  const when = (item.hazard_when ?? {}) as Doc;
  return {
    id: str(item.id),
    label_zh: str(item.label_zh),
    label_en: str(item.label_en),
    answer: item.answer === 'number' ? 'number' : 'yes_no',
    hazard_if_yes: when.equals !== false,
    gt: typeof when.gt === 'number' ? String(when.gt) : '0',
    severity: str(item.severity) || 'general',
    photo_required: item.photo_required === true,
    not_applicable: item.not_applicable === true,
    points: typeof item.points === 'number' ? String(item.points) : '',
  };
}

/** A label as one line: a line break pasted into its box (it wraps) is a space. */
const oneLine = (text: string): string => text.replace(/\s*[\r\n]+\s*/g, ' ').trim();

/** The item the server validates: the row's fields over the original item, whose other fields (an escalation)
 * the form does not edit and keeps. Numbers that are not numbers go as typed, for the server to name. */
export function itemOf(row: ItemRow, original: Doc = {}): Doc {
  const number = (text: string): unknown => (text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text);
  const item: Doc = {
    ...original,
    id: row.id.trim(),
    label_zh: oneLine(row.label_zh),
    label_en: oneLine(row.label_en),
    answer: row.answer,
    hazard_when: row.answer === 'number' ? { gt: number(row.gt) } : { equals: row.hazard_if_yes },
    severity: row.severity,
    photo_required: row.photo_required,
    points: row.points.trim() === '' ? null : number(row.points),
  };
  // 不适用 is for yes/no items only (a number item is answered 0; the server refuses the flag on one), and an item
  // that never had the flag is sent as it came.
  const notApplicable = row.answer === 'yes_no' && row.not_applicable;
  if (notApplicable || 'not_applicable' in original) item.not_applicable = notApplicable;
  return item;
}

function itemRow(item: Doc, index: number, originals: Doc[], editable = true): HTMLTableRowElement {
  const r = rowOf(item);
  const path = (field: string): string => `items[${index}].${field}`;
  const cell = (control: HTMLElement, field: string): HTMLElement =>
    h('td', {}, control, h('small', { class: 'field-error', 'data-error-for': path(field) }));
  const text = (name: 'id', value: string, attrs: Record<string, string> = {}): HTMLInputElement =>
    h('input', { name, type: 'text', value, 'aria-label': ot(HEADS[name]), ...attrs });
  // An item's label is a line of text, but a long one (燃气瓶/管道及报警器是否安全，软管是否老化、龟裂…) did not fit a
  // field of a 1366 px desk, cut off with no way to read it: it wraps in a box as tall as its text (office.css), and
  // Enter adds no line break to it.
  const labelBox = (name: 'label_zh' | 'label_en', value: string): HTMLTextAreaElement => {
    const box = h('textarea', { name, rows: '2', required: true, maxlength: '200', 'aria-label': ot(HEADS[name]), 'data-wraps': '' });
    box.value = value;
    box.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') e.preventDefault();
    });
    return box;
  };
  const answer = h('select', { name: 'answer', 'aria-label': ot('rules.item.answer') },
    h('option', { value: 'yes_no' }, ot('rules.item.yesNo')), h('option', { value: 'number' }, ot('rules.item.number')));
  answer.value = r.answer;
  const ifYes = h('select', { name: 'hazard_if_yes', 'aria-label': ot('rules.item.hazardWhen') },
    h('option', { value: 'true' }, ot('rules.item.ifYes')), h('option', { value: 'false' }, ot('rules.item.ifNo')));
  ifYes.value = String(r.hazard_if_yes);
  const gt = h('input', { name: 'gt', type: 'number', min: '0', step: '1', value: r.gt, 'aria-label': ot('rules.item.above') });
  const above = h('label', { class: 'inline' }, ot('rules.item.above'), ' ', gt);
  const notApplicable = h('input', { name: 'not_applicable', type: 'checkbox', checked: r.not_applicable,
    'aria-label': ot('rules.item.notApplicable'), title: ot('rules.item.notApplicableHint') });
  const shape = (): void => {
    ifYes.hidden = answer.value === 'number';
    above.hidden = answer.value !== 'number';
    notApplicable.hidden = answer.value === 'number'; // a number item is answered 0 when nothing applies
  };
  answer.addEventListener('change', shape);
  shape();
  const severity = h('select', { name: 'severity', 'aria-label': ot('rules.item.severity') },
    ...SEVERITIES.map((v) => h('option', { value: v }, label('severity', v))));
  severity.value = r.severity;
  const photo = h('input', { name: 'photo_required', type: 'checkbox', checked: r.photo_required, 'aria-label': ot('rules.item.photo') });
  const points = h('input', { name: 'points', type: 'number', min: '1', step: '1', value: r.points, placeholder: ot('rules.item.byRules'),
    'aria-label': ot('rules.item.points') });
  const escalate = item.escalate as Doc | undefined;
  const escalates = escalate ? h('small', { class: 'muted', title: JSON.stringify(escalate) }, ot('rules.item.escalates')) : null;
  const labels = h('td', { class: 'labels' }, h('div', {},
    labelBox('label_zh', r.label_zh),
    h('small', { class: 'field-error', 'data-error-for': path('label_zh') }),
    labelBox('label_en', r.label_en),
    h('small', { class: 'field-error', 'data-error-for': path('label_en') }), escalates));
  const row = h('tr', { 'data-item-row': r.id, 'data-original': String(originals.indexOf(item)) },
    cell(text('id', r.id, { required: 'true', maxlength: '64', size: '12' }), 'id'),
    labels,
    cell(answer, 'answer'),
    cell(h('span', {}, ifYes, above), 'hazard_when'),
    cell(severity, 'severity'),
    cell(photo, 'photo_required'),
    cell(notApplicable, 'not_applicable'),
    cell(points, 'points'),
  );
  const move = (delta: number): void => {
    const to = delta < 0 ? row.previousElementSibling : row.nextElementSibling?.nextElementSibling ?? null;
    if (delta < 0 && !to) return;
    row.parentElement?.insertBefore(row, to);
  };
  const act = (text: string, attrs: Record<string, string>, onClick: () => void): HTMLButtonElement => {
    const b = h('button', { type: 'button', ...attrs }, text);
    b.addEventListener('click', onClick);
    return b;
  };
  if (!editable) {
    row.append(h('td', { class: 'row-actions' }));
    return row;
  }
  row.append(h('td', { class: 'row-actions' },
    act('↑', { 'aria-label': ot('rules.item.up') }, () => move(-1)),
    act('↓', { 'aria-label': ot('rules.item.down') }, () => move(1)),
    act(ot('rules.item.remove'), { 'data-action': 'remove-item' }, () => row.remove())));
  return row;
}

/** The rows' items, in the rows' order, read from the table. */
function readItems(body: HTMLElement, originals: Doc[]): Doc[] {
  return [...body.querySelectorAll<HTMLTableRowElement>('tr[data-item-row]')].map((tr) => {
    const value = (name: string): string => (tr.querySelector<HTMLInputElement>(`[name="${name}"]`)?.value ?? '');
    const row: ItemRow = {
      id: value('id'),
      label_zh: value('label_zh'),
      label_en: value('label_en'),
      answer: value('answer') === 'number' ? 'number' : 'yes_no',
      hazard_if_yes: value('hazard_if_yes') !== 'false',
      gt: value('gt'),
      severity: value('severity'),
      photo_required: tr.querySelector<HTMLInputElement>('[name="photo_required"]')?.checked === true,
      not_applicable: tr.querySelector<HTMLInputElement>('[name="not_applicable"]')?.checked === true,
      points: value('points'),
    };
    return itemOf(row, originals[Number(tr.dataset.original)] ?? {});
  });
}

/** A checklist template as a form: its title, the shop categories it applies to, and its items as rows (add,
 * remove, reorder). Saving makes a new version; the server's reasons are shown at the field they name. */
function templateEditor(
  doc: Doc,
  isNew: boolean,
  reload: (saved?: Saved) => void,
  editable = true,
  saved?: Saved,
): HTMLElement {
  const id = shortId(str(doc._id));
  const title = (doc.title && typeof doc.title === 'object' ? doc.title : {}) as Doc;
  const originals = Array.isArray(doc.items) ? (doc.items as Doc[]) : [];
  const chosen = new Set(Array.isArray(doc.categories) ? (doc.categories as string[]) : ['*']);
  const summary = h('p', { class: 'form-status', role: 'status' });
  if (!isNew) sayIfSaved(summary, doc._id, saved);
  const textField = (name: 'titleZh' | 'titleEn', value: string, path: string): HTMLElement =>
    h('label', { class: 'field' }, h('span', { class: 'label' }, ot(name === 'titleZh' ? 'rules.titleZh' : 'rules.titleEn')),
      h('input', { name, type: 'text', value, required: true, maxlength: '200' }), h('small', { class: 'field-error', 'data-error-for': path }));
  const categories = h('fieldset', { class: 'categories' }, h('legend', {}, ot('rules.categories')),
    // A category the template names beyond these (a code an import gave some shops) stays offered, and kept.
    ...[...CATEGORIES, ...[...chosen].filter((c) => !CATEGORIES.includes(c))].map((c) => h('label', { class: 'inline' },
      h('input', { type: 'checkbox', name: 'category', value: c, checked: chosen.has(c) }), label('category', c))),
    h('small', { class: 'field-error', 'data-error-for': 'categories' }));
  const rows = h('tbody', {}, ...originals.map((item, i) => itemRow(item, i, originals, editable)));
  const items = h('table', { class: 'data items-table', 'data-table': 'template-items' },
    h('thead', {}, h('tr', {}, ...COLUMN_HEADS.map((k) => h('th', {}, ot(k))), h('th', {}))), rows);
  const add = h('button', { type: 'button', 'data-action': 'add-item' }, ot('rules.item.add'));
  add.addEventListener('click', () => {
    const blank = { id: '', label_zh: '', label_en: '', answer: 'yes_no', hazard_when: { equals: true }, severity: 'general' };
    rows.append(itemRow(blank, rows.children.length, originals));
    rows.lastElementChild?.querySelector<HTMLInputElement>('input[name=id]')?.focus();
  });
  const f = h('form', { class: 'office-form', 'data-form': 'template', 'data-template': id },
    h('div', { class: 'grid-fields' }, textField('titleZh', str(title.zh), 'title.zh'), textField('titleEn', str(title.en), 'title.en')),
    categories, h('div', { class: 'table-wrap' }, items), h('small', { class: 'field-error', 'data-error-for': 'items' }),
    editable ? add : null, editable ? submit(isNew ? ot('rules.newTemplate') : ot('rules.saveVersion')) : null, summary);
  if (!editable) lockControls(f);
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!editable) return;
    for (const slot of f.querySelectorAll('[data-error-for]')) slot.textContent = '';
    summary.removeAttribute('data-saved');
    // Errors name items by position: number the rows as they stand now.
    [...rows.children].forEach((tr, i) => {
      for (const slot of tr.querySelectorAll<HTMLElement>('[data-error-for]')) {
        slot.dataset.errorFor = (slot.dataset.errorFor ?? '').replace(/^items\[\d+\]/, `items[${i}]`);
      }
    });
    const value = (name: string): string => (f.elements.namedItem(name) as HTMLInputElement).value.trim();
    const body: Doc = {
      title: { zh: value('titleZh'), en: value('titleEn') },
      categories: [...f.querySelectorAll<HTMLInputElement>('input[name=category]:checked')].map((c) => c.value),
      items: readItems(rows, originals),
    };
    const call = isNew
      ? attempt<Doc>('POST', '/api/office/templates', { id, ...body })
      : // The version edited, so the server refuses (409) an edit of a version someone else replaced meanwhile.
        attempt<Doc>('PUT', `/api/office/templates/${encodeURIComponent(id)}`, { version: doc.version, ...body });
    void call.then((r) => (r.ok ? savedOrSame(r.value, summary, reload) : showErrors(f, summary, r.refusal, templateField)));
  });
  const named = str(title[getLang() === 'en' ? 'en' : 'zh']);
  const heading = `${named || id} · ${isNew ? ot('rules.newTemplate') : ot('rules.version', { v: str(doc.version) })}`;
  const cats = joinList([...chosen].map((c) => label('category', c)));
  return h('details', { class: 'template', open: isNew ? undefined : true },
    h('summary', {}, heading, cats ? ` · ${ot('rules.categories')}: ${cats}` : ''), f);
}

export const rules: Screen = () => {
  // The rules and checklists are the district's: its office edits them, a sub-district's office only reads them
  // (the server refuses its edits with a 403, whose reason the forms would show).
  const editable = !isScoped();
  const rulesBox = h('div', {});
  const templatesBox = h('div', {});
  const loadRules = (saved?: Saved): void =>
    void loadInto(rulesBox, async () => {
      const [answer, names] = await Promise.all([
        get<Doc>('/api/office/rules'),
        staffNames().catch(() => new Map<string, string>()),
      ]);
      return rulesForm(answer, names, loadRules, editable, saved);
    });
  const loadTemplates = (saved?: Saved): void =>
    void loadInto(templatesBox, async () => {
      const answer = await get<Doc>('/api/office/templates');
      return [
        ...listOf<Doc>(answer, 'templates').map((t) => templateEditor(t, false, loadTemplates, editable, saved)),
        // The shipped modules not yet added: only the district's office can add one.
        ...(editable ? listOf<Doc>(answer.available).map((t) => templateEditor(t, true, loadTemplates)) : []),
      ];
    });
  loadRules();
  loadTemplates();
  return h('div', { class: 'screen rules', 'data-editable': String(editable) }, h('h1', {}, ot('rules.title')),
    editable ? null : h('p', { class: 'notice', 'data-notice': 'district-only', role: 'note' }, ot('rules.districtOnly')),
    section(ot('rules.rules'), rulesBox), section(ot('rules.templates'), templatesBox));
};
