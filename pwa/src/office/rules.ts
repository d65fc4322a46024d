// Rules and checklists: the versioned point rules as a form (the server's validation errors shown at the field
// they name), the checklist templates as JSON with the same, and the shipped modules (食品安全, 环境卫生) to add.
import { h } from '../dom';
import { attempt, get, type Refusal } from './api';
import { when } from './format';
import { getLang } from '../i18n';
import { label, ot } from './i18n';
import type { Screen } from './main';
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

function showErrors(f: HTMLElement, summary: HTMLElement, refusal: Refusal): void {
  const errs = fieldErrors(refusal.reason || refusal.error);
  summary.className = 'form-status error';
  summary.replaceChildren(`${ot('rules.invalid')}: ${refusal.reason || refusal.error}`);
  for (const [path, msg] of errs) {
    const slot = f.querySelector<HTMLElement>(`[data-error-for="${CSS.escape(path)}"]`);
    if (slot) slot.textContent = msg;
  }
}

function rulesForm(answer: Doc, reload: () => void): HTMLElement {
  const rules = (answer.rules ?? answer) as Doc;
  const version = rules.version;
  const fields = flatten(rules);
  const summary = h('p', { class: 'form-status', role: 'status' });
  const inputs = fields.map(([path, value]) => {
    const attrs: Record<string, string | boolean> = { name: path, 'data-kind': typeof value };
    let control: HTMLInputElement;
    if (typeof value === 'boolean') control = h('input', { ...attrs, type: 'checkbox', checked: value });
    else if (typeof value === 'number') control = h('input', { ...attrs, type: 'number', step: 'any', value: String(value) });
    else control = h('input', { ...attrs, type: 'text', value: str(value) });
    return h('label', { class: 'field' }, h('span', { class: 'label', title: path }, label('rule', path)), control,
      h('small', { class: 'field-error', 'data-error-for': path }));
  });
  const f = h('form', { class: 'office-form rules-form', 'data-form': 'rules' },
    h('p', {}, ot('rules.version', { v: str(version) })), h('div', { class: 'grid-fields' }, ...inputs), submit(ot('rules.saveVersion')), summary);
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    for (const slot of f.querySelectorAll('[data-error-for]')) slot.textContent = '';
    const values: [string, unknown][] = fields.map(([path]) => {
      const el = f.elements.namedItem(path) as HTMLInputElement;
      if (el.dataset.kind === 'boolean') return [path, el.checked];
      if (el.dataset.kind === 'number') return [path, el.value.trim() === '' ? null : Number(el.value)];
      return [path, el.value];
    });
    void attempt<Doc>('PUT', '/api/office/rules', { ...unflatten(values), version }).then((r) => {
      if (r.ok) reload();
      else showErrors(f, summary, r.refusal);
    });
  });
  const changes = listOf<Doc>(answer.changes);
  return h('div', {}, f, changes.length
    ? table(
        [
          { label: ot('rules.version', { v: '' }).trim(), cell: (c: Doc) => str(c.version), cls: 'num' },
          { label: ot('common.by'), cell: (c: Doc) => str(c.by) },
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

function templateEditor(doc: Doc, isNew: boolean, reload: () => void): HTMLElement {
  const body: Doc = {};
  for (const [k, v] of Object.entries(doc)) if (!META.has(k)) body[k] = v;
  const id = shortId(str(doc._id));
  const text = h('textarea', { name: 'template', rows: '14', spellcheck: 'false', class: 'json' });
  text.value = JSON.stringify(isNew ? { id, ...body } : body, null, 2);
  const summary = h('p', { class: 'form-status', role: 'status' });
  const f = h('form', { class: 'office-form', 'data-form': 'template', 'data-template': id },
    h('label', { class: 'field' }, h('span', { class: 'label' }, ot('rules.json')), text),
    submit(isNew ? ot('rules.newTemplate') : ot('rules.saveVersion')), summary);
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text.value);
    } catch (err) {
      summary.className = 'form-status error';
      summary.textContent = ot('rules.badJson', { msg: err instanceof Error ? err.message : String(err) });
      return;
    }
    const call = isNew
      ? attempt<Doc>('POST', '/api/office/templates', parsed)
      : // The version edited, so the server refuses (409) an edit of a version someone else replaced meanwhile.
        attempt<Doc>('PUT', `/api/office/templates/${encodeURIComponent(id)}`, { version: doc.version, ...(parsed as Doc) });
    void call.then((r) => (r.ok ? reload() : showErrors(f, summary, r.refusal)));
  });
  const t = doc.title;
  const named = t && typeof t === 'object' ? str((t as Doc)[getLang() === 'en' ? 'en' : 'zh']) : str(t);
  const title = `${named || id} · ${isNew ? ot('rules.newTemplate') : ot('rules.version', { v: str(doc.version) })}`;
  const cats = Array.isArray(doc.categories) ? (doc.categories as string[]).join('、') : '';
  return h('details', { class: 'template', open: isNew ? undefined : true },
    h('summary', {}, title, cats ? ` · ${ot('rules.categories')}: ${cats}` : ''), f);
}

export const rules: Screen = () => {
  const rulesBox = h('div', {});
  const templatesBox = h('div', {});
  const loadRules = (): void => void loadInto(rulesBox, async () => rulesForm(await get<Doc>('/api/office/rules'), loadRules));
  const loadTemplates = (): void =>
    void loadInto(templatesBox, async () => {
      const answer = await get<Doc>('/api/office/templates');
      return [
        ...listOf<Doc>(answer, 'templates').map((t) => templateEditor(t, false, loadTemplates)),
        ...listOf<Doc>(answer.available).map((t) => templateEditor(t, true, loadTemplates)),
      ];
    });
  loadRules();
  loadTemplates();
  return h('div', { class: 'screen rules' }, h('h1', {}, ot('rules.title')),
    section(ot('rules.rules'), rulesBox), section(ot('rules.templates'), templatesBox));
};
