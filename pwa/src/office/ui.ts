// Small building blocks the office screens share: tables, figures, loading and error states, forms.
// Everything goes through h() and text nodes: names, notes and addresses from documents are never markup.
import { h, type Child } from '../dom';
import { download, reasonOf } from './api';
import { num } from './format';
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

/** Rows a list the server pages asks for at a time (its `limit`; the server's default too). */
export const PAGE_SIZE = 50;

/** "第 1–50 条，共 30,000 条" with 上一页 and 下一页 for a list the server pages (no buttons when it is all on one page);
 *  `go` is given the offset of the page asked for. `name` tells a screen's pagers apart (`data-pager`); nothing is
 *  said of an empty list. */
export function pager(
  name: string,
  page: { offset: number; limit: number; total: number; shown: number },
  go: (offset: number) => void,
): HTMLElement {
  const { offset, limit, total, shown } = page;
  const el = h('p', { class: 'pager', 'data-pager': name, 'data-offset': String(offset), 'data-total': String(total) });
  if (total === 0 && offset === 0) {
    el.hidden = true;
    return el;
  }
  const step = (label: string, action: string, to: number, enabled: boolean): HTMLButtonElement => {
    const b = h('button', { type: 'button', class: 'btn', 'data-action': action }, label);
    b.disabled = !enabled;
    b.addEventListener('click', () => go(to));
    return b;
  };
  const first = shown > 0 ? offset + 1 : Math.min(offset, total);
  el.append(h('span', { class: 'range' }, ot('common.pageRange', { from: num(first), to: num(offset + shown), total: num(total) })));
  if (offset === 0 && shown >= total) return el; // all of it on one page: nothing to turn
  el.append(
    step(ot('common.prevPage'), 'prev-page', Math.max(0, offset - limit), offset > 0),
    step(ot('common.nextPage'), 'next-page', offset + limit, offset + shown < total),
  );
  return el;
}

/** A page of a list the server pages newest first from a cursor: `next` is the `before` of the page after. */
export interface CursorPage<T> {
  items: T[];
  next: string | null;
}

/** Most answers one page of such a list asks for. */
export const CURSOR_ASKS = 10;

/** The page of `want` items from `before` on (null: the newest). The server looks through a bounded part of the
 *  list per answer (the audit log, the quarantine: 5,000 entries), so a sub-district's office in a busy district
 *  may get few or none of its own in one answer, with `next`: ask on (at most `CURSOR_ASKS` times) until the page
 *  is full or the list has no more, instead of showing an empty page with 更早的记录 under it. */
export async function cursorPage<T>(
  ask: (before: string | null, limit: number) => Promise<CursorPage<T>>,
  before: string | null,
  want: number,
): Promise<CursorPage<T>> {
  const items: T[] = [];
  let next = before;
  for (let asked = 0; asked < CURSOR_ASKS; asked += 1) {
    const answer = await ask(next, want - items.length);
    items.push(...answer.items);
    next = answer.next;
    if (next === null || items.length >= want) break;
  }
  return { items, next };
}

/** How long typing pauses before a search box asks the server. */
export const SEARCH_WAIT_MS = 300;

/** A search box that calls `onSearch` with its trimmed text once typing pauses (at once on Enter), and only when
 *  the text changed: a list of 30,000 rows is searched on the server, not at every key. */
export function searchBox(
  name: string,
  placeholder: string,
  onSearch: (q: string) => void,
  wait = SEARCH_WAIT_MS,
): HTMLInputElement {
  const box = h('input', { type: 'search', name, placeholder, 'aria-label': placeholder, autocomplete: 'off' });
  let asked = '';
  let timer: ReturnType<typeof setTimeout> | null = null;
  const fire = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    const q = box.value.trim();
    if (q === asked) return;
    asked = q;
    onSearch(q);
  };
  box.addEventListener('input', () => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(fire, wait);
  });
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      fire();
    }
  });
  return box;
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

/** What fills `box` from the server, again and again (a page turned, a search typed on): each call shows what its
 *  `build` resolves to, unless a later call was made meanwhile, whose answer is the one shown (an earlier answer
 *  arriving last is dropped). The rows shown stay, marked busy, until the next ones come; the reason on failure.
 *  Each call answers whether its build was shown. */
export function refresher(box: HTMLElement): (build: () => Promise<Child | Child[]>) => Promise<boolean> {
  let asked = 0;
  return (build) => {
    const mine = ++asked;
    box.setAttribute('aria-busy', 'true');
    if (box.childNodes.length === 0) box.append(h('p', { class: 'muted loading' }, ot('common.loading')));
    return build()
      .then(
        (node) => {
          if (mine !== asked) return false;
          box.replaceChildren(...(Array.isArray(node) ? node : [node]).filter(isNode));
          return true;
        },
        (err: unknown) => {
          if (mine === asked) box.replaceChildren(errorBox(err));
          return false;
        },
      )
      .finally(() => {
        if (mine === asked) box.removeAttribute('aria-busy');
      });
  };
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

/** A button whose handler runs once at a time; when it fails, the server's reason shows beside it (操作失败: …) until
 *  a later click succeeds: a refused publish, close or activation code is never a click that did nothing. */
export function button(label: string, onClick: (b: HTMLButtonElement) => void | Promise<void>, cls = ''): HTMLButtonElement {
  const b = h('button', { type: 'button', class: `btn ${cls}`.trim() }, label);
  const failed = h('span', { class: 'form-status error', role: 'alert', 'data-button-error': '' });
  b.addEventListener('click', () => {
    if (b.disabled) return;
    b.disabled = true;
    let done: void | Promise<void>;
    try {
      done = onClick(b); // at once: a confirm() it asks is asked in the click
    } catch (err: unknown) {
      done = Promise.reject(err);
    }
    void Promise.resolve(done)
      .then(
        () => failed.remove(),
        (err: unknown) => {
          failed.textContent = `${ot('common.failed')}: ${reasonOf(err)}`;
          if (b.isConnected) b.after(failed);
        },
      )
      .finally(() => {
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
