// Small building blocks the office screens share: tables, figures, loading and error states, forms.
// Everything goes through h() and text nodes: names, notes and addresses from documents are never markup.
import { h, type Child } from '../dom';
import { download, reasonOf } from './api';
import { ot } from './i18n';

export interface Column<T> {
  label: string;
  cell: (row: T) => Child;
  cls?: string;
  /** The value the column sorts by, when a tap on its heading should sort the table. */
  sort?: (row: T) => SortKey;
}

export type SortKey = number | string | null | undefined;

/** `rows` ordered by `key`, ascending or descending; rows without a value last either way, and rows with equal
 *  values in the order they came (the server's). Text in Chinese order (pinyin). */
export function sortRows<T>(rows: readonly T[], key: (row: T) => SortKey, descending: boolean): T[] {
  const blank = (v: SortKey): boolean => v === null || v === undefined || v === '' || Number.isNaN(v);
  return [...rows].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    if (blank(x) || blank(y)) return Number(blank(x)) - Number(blank(y));
    const order =
      typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), 'zh-CN');
    return descending ? -order : order;
  });
}

export const TABLE_PAGE = 100; // rows a table draws at a time

export function table<T>(
  columns: Column<T>[],
  rows: T[],
  attrs: Record<string, string> = {},
  rowAttrs: (row: T) => Record<string, string | undefined> = () => ({}),
): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'muted empty' }, ot('common.none'));
  const body = h('tbody', {});
  // A sub-district's ranking, sync monitor or reward balances hold 1,500 rows: drawn at once they took 3 s on a
  // slow laptop. The first rows are drawn, the rest a page at a time on request (sorting draws from the top).
  const more = h('button', { type: 'button', class: 'link more-rows', 'data-action': 'more-rows' });
  let shown: T[] = rows;
  let drawn = 0;
  const drawMore = (): void => {
    const next = shown.slice(drawn, drawn + TABLE_PAGE);
    body.append(...next.map((row) => h('tr', rowAttrs(row), ...columns.map((c) => h('td', { class: c.cls }, c.cell(row))))));
    drawn += next.length;
    more.hidden = drawn >= shown.length;
    more.textContent = ot('common.moreRows', { n: shown.length - drawn });
  };
  const draw = (list: T[]): void => {
    shown = list;
    drawn = 0;
    body.replaceChildren();
    drawMore();
  };
  more.addEventListener('click', drawMore);
  draw(rows);
  const heads: HTMLElement[] = [];
  for (const c of columns) {
    const key = c.sort;
    if (!key) {
      heads.push(h('th', { class: c.cls }, c.label));
      continue;
    }
    // A tap sorts ascending, the next one descending.
    const button = h('button', { type: 'button', class: 'sort', title: ot('common.sort') }, c.label);
    const th = h('th', { class: c.cls, 'aria-sort': 'none' }, button);
    button.addEventListener('click', () => {
      const descending = th.getAttribute('aria-sort') === 'ascending';
      for (const other of heads) if (other.hasAttribute('aria-sort')) other.setAttribute('aria-sort', 'none');
      th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
      draw(sortRows(rows, key, descending));
    });
    heads.push(th);
  }
  return h(
    'div',
    { class: 'table-wrap' },
    h('table', { class: 'data', ...attrs }, h('thead', {}, h('tr', {}, ...heads)), body),
    more,
  );
}

export function errorBox(err: unknown): HTMLElement {
  return h('p', { class: 'error', role: 'alert' }, `${ot('common.failed')}: ${reasonOf(err)}`);
}

/** Fill `box` with what `build` returns once it resolves; show a spinner meanwhile and the reason on failure. */
export function loadInto(box: HTMLElement, build: () => Promise<Child | Child[]>): Promise<void> {
  box.replaceChildren(h('p', { class: 'muted loading', 'aria-busy': 'true' }, ot('common.loading')));
  box.setAttribute('aria-busy', 'true');
  return build()
    .then((node) => box.replaceChildren(...(Array.isArray(node) ? node : [node]).filter(isNode)))
    .catch((err: unknown) => box.replaceChildren(errorBox(err)))
    .finally(() => box.removeAttribute('aria-busy'));
}

function isNode(c: Child): c is Node | string {
  return c !== null && c !== undefined && c !== false && typeof c !== 'number';
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'panel' }, h('h2', {}, title), ...children);
}

export function field(label: string, input: HTMLElement, hint?: string): HTMLElement {
  return h('label', { class: 'field' }, h('span', { class: 'label' }, label), input, hint && h('small', {}, hint));
}

export function input(name: string, attrs: Record<string, string | boolean | undefined> = {}): HTMLInputElement {
  return h('input', { name, type: 'text', ...attrs });
}

export function select(name: string, options: [string, string][], value = ''): HTMLSelectElement {
  const s = h('select', { name }, ...options.map(([v, label]) => h('option', { value: v }, label)));
  s.value = value;
  return s;
}

export function button(label: string, onClick: (b: HTMLButtonElement) => void | Promise<void>, cls = ''): HTMLButtonElement {
  const b = h('button', { type: 'button', class: `btn ${cls}`.trim() }, label);
  b.addEventListener('click', () => {
    if (b.disabled) return;
    b.disabled = true;
    void Promise.resolve(onClick(b)).finally(() => {
      b.disabled = false;
    });
  });
  return b;
}

/** A form whose submit handler runs once at a time and shows the server's reason when it fails; `busy`, when
 * given, is said in the status line while the handler runs (a call that takes seconds). */
export function form(
  attrs: Record<string, string>,
  children: Child[],
  onSubmit: (data: FormData, form: HTMLFormElement) => Promise<Child | void>,
  busy?: string,
): HTMLFormElement {
  const status = h('p', { class: 'form-status', role: 'status' });
  const f = h('form', { class: 'office-form', ...attrs }, ...children, status);
  f.addEventListener('submit', (event) => {
    event.preventDefault();
    const submit = f.querySelector<HTMLButtonElement>('button[type=submit]');
    if (submit?.disabled) return;
    if (submit) submit.disabled = true;
    status.className = 'form-status';
    status.replaceChildren(...(busy ? [busy] : []));
    if (busy) status.setAttribute('aria-busy', 'true');
    void onSubmit(new FormData(f), f)
      .then((shown) => {
        status.classList.add('ok');
        status.replaceChildren(typeof shown === 'number' ? String(shown) : shown || ot('common.saved'));
      })
      .catch((err: unknown) => {
        status.classList.add('error');
        status.replaceChildren(`${ot('common.failed')}: ${reasonOf(err)}`);
      })
      .finally(() => {
        status.removeAttribute('aria-busy');
        if (submit) submit.disabled = false;
      });
  });
  return f;
}

export function submit(label: string): HTMLButtonElement {
  return h('button', { type: 'submit', class: 'btn primary' }, label);
}

export function str(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

/** A list from an answer that is either a list or an object holding one under a known key. */
export function listOf<T>(answer: unknown, ...keys: string[]): T[] {
  if (Array.isArray(answer)) return answer as T[];
  if (answer && typeof answer === 'object') {
    for (const k of [...keys, 'items', 'rows', 'entries']) {
      const v = (answer as Record<string, unknown>)[k];
      if (Array.isArray(v)) return v as T[];
    }
  }
  return [];
}

export function badge(text: string, cls: string): HTMLElement {
  return h('span', { class: `badge ${cls}` }, text);
}

/** Show a message in a form's status line: plain, `ok` or `error`. */
export function say(status: HTMLElement, text: string, cls: '' | 'ok' | 'error' = ''): void {
  status.className = `form-status ${cls}`.trim();
  status.textContent = text;
}

/** Download a file the server makes (an export, posters), saying in `status` while it is being made (a
 * community's posters or a month's checks take seconds to tens of seconds) and when it is saved or why not. */
export async function downloadShown(status: HTMLElement, path: string, filename: string): Promise<void> {
  say(status, ot('download.making', { name: filename }));
  status.dataset.busy = 'true';
  try {
    await download(path, filename);
    say(status, ot('download.done', { name: filename }), 'ok');
  } catch (err) {
    say(status, `${ot('common.failed')}: ${reasonOf(err)}`, 'error');
  } finally {
    delete status.dataset.busy;
  }
}
