// The registry: import the shop survey (CSV/XLSX) as a job with a progress bar and a validation report; add and
// edit shops, communities, grids and users; owner activation codes; QR posters per community, grid or shop; the
// sign-in and action log (./audit). `?section=import|grids|posters` opens it at that section (the overview's first
// steps lead there).
import { h } from '../dom';
import { ApiError, get, qs, reasonOf, send, upload } from './api';
import { auditLog } from './audit';
import { when } from './format';
import { getLang, joinList, reasonIn } from '../i18n';
import { label, ot, type OfficeKey } from './i18n';
import type { Screen } from './main';
import { officePath } from './main';
import { forgetStaffNames, staffNames } from './people';
import {
  defaultSubdistrict,
  forgetSubdistricts,
  heldSubdistrict,
  newUserBody,
  ownSubdistrict,
  type Subdistrict,
  subdistrictChoices,
  subdistrictName,
  subdistricts as knownSubdistricts,
} from './reach';
import { button, downloadShown, field, form, input, listOf, loadInto, section, select, str, submit, table } from './ui';
import { CATEGORIES } from './rules';
import { contactOf, type Contact } from '../contact';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const POLL_MS = 400;
const MAX_POLL_MS = 5000;

/** The sections a link may open the registry at (`/office/registry?section=grids`): the overview's first steps lead
 *  to the first three, and the grids and the posters are far below the import's form; the shop form, with `&shop=`
 *  the shop it shows (`editShop`), is where the e-file's reminder of a new owner's contact leads. */
export const REGISTRY_SECTIONS = ['import', 'grids', 'posters', 'shop'] as const;
export type RegistrySection = (typeof REGISTRY_SECTIONS)[number];

/** `node`, as the section `?section=name` opens the registry at. */
function marked(node: HTMLElement, name: RegistrySection): HTMLElement {
  node.dataset.section = name;
  return node;
}

/** Scroll the section `name` (a `?section=` of the link that opened the screen) to the top and focus its heading, so
 *  the keyboard and a screen reader go on from there too. Nothing for no name or an unknown one, or a screen no
 *  longer shown (the office went on meanwhile). */
function reveal(root: HTMLElement, name: string | null): void {
  if (!name || !(REGISTRY_SECTIONS as readonly string[]).includes(name) || !root.isConnected) return;
  const target = root.querySelector<HTMLElement>(`[data-section="${name}"]`);
  const heading = target?.querySelector<HTMLElement>('h2');
  if (!target || !heading) return; // its part of the screen could not be read: the error shows at the top
  heading.tabIndex = -1;
  target.scrollIntoView({ block: 'start' });
  heading.focus({ preventScroll: true });
}

export interface ImportJob {
  job: string;
  status: string;
  dry_run?: boolean;
  total: number;
  done: number;
  created?: number;
  updated?: number;
  moved?: number;
  unchanged?: number;
  refused?: number;
  errors?: { line: number; field: string; reason: string }[];
  duplicates?: { line: number; code: string; first_line: number }[];
  communities_created?: string[];
  grids_created?: string[];
  reason?: string | null;
  resumed?: number;
  warnings?: string[]; // about the file as a whole: columns the import ignored, no community column
  assigned?: AssignedCode[]; // the codes given to rows without one
}

/** A code the import gave a row without one (server/importer.py `Report.assigned`): a new one, or the code of the
 *  shop registered under the same name and address. */
export interface AssignedCode {
  line: number;
  code: string;
  name: string;
  registered?: boolean;
}

/** The codes given, as a CSV (with a BOM, for Excel) to print the posters by: line, code, name. */
export function assignedCsv(assigned: readonly AssignedCode[]): string {
  const cell = (v: string): string => `"${v.replace(/"/g, '""')}"`;
  const head = [ot('registry.line'), ot('registry.assignedCode'), ot('registry.column.name')];
  const lines = [head, ...assigned.map((a) => [String(a.line), a.code, a.name])].map((r) => r.map(cell).join(','));
  return '\ufeff' + lines.join('\r\n') + '\r\n';
}

function assignedCodes(job: ImportJob): HTMLElement | null {
  const assigned = [...(job.assigned ?? [])].sort((a, b) => a.line - b.line);
  if (!assigned.length) return null;
  const list = h('a', {
    href: `data:text/csv;charset=utf-8,${encodeURIComponent(assignedCsv(assigned))}`,
    download: ot('registry.assignedFile'),
    'data-action': 'assigned-codes',
  }, ot('registry.assignedDownload'));
  return section(
    ot('registry.assigned', { n: assigned.length }),
    job.dry_run ? h('p', { class: 'muted' }, ot('registry.assignedDry')) : null,
    table(
      [
        { label: ot('registry.line'), cell: (a: AssignedCode) => String(a.line), cls: 'num' },
        { label: ot('registry.assignedCode'), cell: (a: AssignedCode) => a.code },
        { label: ot('registry.column.name'), cell: (a: AssignedCode) => a.name },
        { label: ot('registry.assignedHow'), cell: (a: AssignedCode) => ot(a.registered ? 'registry.assignedKnown' : 'registry.assignedNew') },
      ],
      assigned,
      { 'data-table': 'import-assigned' },
    ),
    h('p', {}, list),
  );
}

export function contentTypeOf(file: { name: string; type: string }): string {
  if (/\.xlsx$/i.test(file.name)) return XLSX;
  if (/\.csv$/i.test(file.name)) return 'text/csv';
  return file.type || 'application/octet-stream';
}

// The report's `field` of a refused row, as the survey's column headings name it.
const FIELD_LABELS: Record<string, OfficeKey> = {
  code: 'registry.column.code',
  name: 'registry.column.name',
  address: 'registry.column.address',
  category: 'common.category',
  community: 'common.community',
  grid: 'common.grid',
  contact_name: 'registry.contactName',
  contact_phone: 'registry.contactPhone',
};

function fieldLabel(name: string): string {
  const key = FIELD_LABELS[name];
  return key ? ot(key) : name;
}

/** The labels of a form's fields, by the name the server gives a field in a refusal (`address: …`). */
type FormLabels = Readonly<Record<string, OfficeKey>>;

/** A refusal as the registry desk says it (`said`: in the screen's language, `reasonOf`): the field the server names
 *  in front (`address: 不能为空。`, `contact.phone: …`) named as the form labels it (地址：不能为空。), not by its key; a
 *  reason that names its field already (联系电话只能有数字…) is not given the label twice. */
export function fieldNamed(said: string, labels: FormLabels): string {
  const named = /^([\w.]+): /.exec(said);
  const key = named ? labels[named[1]!] : undefined;
  if (!named || !key) return said;
  const label = ot(key);
  const rest = said.slice(named[0].length);
  if (rest.startsWith(label)) return rest;
  return getLang() === 'en' ? `${label}: ${rest}` : `${label}：${rest}`;
}

/** A form's submit handler whose refusal is said by `fieldNamed`. */
function naming<A extends unknown[], R>(labels: FormLabels, run: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return (...args) => run(...args).catch((err: unknown) => {
    throw new Error(fieldNamed(reasonOf(err), labels));
  });
}

/** A grid the import created, `社区/网格` as the server names it, as the registry says a grid: 网格（社区）. */
function gridInCommunity(created: string): string {
  const slash = created.indexOf('/');
  if (slash <= 0) return created;
  const grid = created.slice(slash + 1);
  const community = created.slice(0, slash);
  return getLang() === 'en' ? `${grid} (${community})` : `${grid}（${community}）`;
}

/** The import's report: counts (a dry run's as what the import would do, nothing written), what it created,
 *  warnings about the file, and every refused row once (a duplicate is one of the report's errors, which name the
 *  line it repeats; `duplicates` lists them again for tools). */
export function importReport(job: ImportJob): HTMLElement {
  const problems = [...(job.errors ?? [])].sort((a, b) => a.line - b.line);
  const counts = { created: job.created ?? 0, updated: (job.updated ?? 0) + (job.moved ?? 0), errors: problems.length };
  return h(
    'div',
    { class: 'import-report', 'data-import-status': job.status, 'data-dry-run': String(Boolean(job.dry_run)) },
    h('p', { class: job.status === 'failed' ? 'error' : 'ok' },
      job.status === 'failed'
        ? `${ot('common.failed')}: ${reasonIn(str(job.reason))}`
        : ot(job.dry_run ? 'registry.dryDone' : 'registry.done', counts)
          // The same survey again (a corrected file): its shops registered already are neither new nor errors.
          + (job.unchanged ? ot('registry.unchangedRows', { n: job.unchanged }) : '')),
    job.resumed ? h('p', { 'data-import-resumed': String(job.resumed) }, ot('registry.resumed', { n: job.resumed })) : null,
    // What the import made (a dry run: would make) besides shops, said as such: a bare 社区: 幸福社区 read as a heading.
    job.communities_created?.length
      ? h('p', { 'data-import-created': 'communities' },
        ot(job.dry_run ? 'registry.communitiesToCreate' : 'registry.communitiesCreated', { names: joinList(job.communities_created) }))
      : null,
    job.grids_created?.length
      ? h('p', { 'data-import-created': 'grids' },
        ot(job.dry_run ? 'registry.gridsToCreate' : 'registry.gridsCreated', { names: joinList(job.grids_created.map(gridInCommunity)) }))
      : null,
    job.warnings?.length
      ? h('div', { class: 'warning', 'data-import-warnings': '' },
        h('strong', {}, ot('registry.warnings')),
        h('ul', {}, ...job.warnings.map((w) => h('li', {}, reasonIn(w)))))
      : null,
    assignedCodes(job),
    problems.length
      ? section(ot('registry.report'), table(
          [
            { label: ot('registry.line'), cell: (p: { line: number }) => String(p.line), cls: 'num' },
            { label: ot('registry.field'), cell: (p: { field: string }) => fieldLabel(p.field) },
            { label: ot('registry.reason'), cell: (p: { reason: string }) => reasonIn(p.reason) },
          ],
          problems,
          { 'data-table': 'import-errors' },
        ))
      : null,
  );
}

// The survey's columns as the import reads them (server/importer.py HEADERS), each heading with its note in
// brackets, which the import passes over: the template explains itself and holds no row to import by mistake.
export const TEMPLATE_HEADINGS = [
  '店铺编号（可留空：系统自动编号，如 S0001，印在二维码上）',
  '店铺名称（必填）',
  '地址（必填）',
  '类别（如 餐饮、面馆、超市、理发、五金、药店、其他）',
  '社区（如 幸福社区）',
  '网格（必填，如 幸福一网格）',
  '负责人（可选，约谈时联系的人）',
  '联系电话（可选，如 138 0013 8000）',
];

/** The import template: a CSV (with a BOM, so Excel reads it as UTF-8) holding the heading row only. */
export function importTemplate(): string {
  return '\ufeff' + TEMPLATE_HEADINGS.map((cell) => `"${cell.replace(/"/g, '""')}"`).join(',') + '\r\n';
}

/** What the survey file must hold, and the template to fill in. */
function importHelp(): HTMLElement {
  const template = h('a', {
    href: `data:text/csv;charset=utf-8,${encodeURIComponent(importTemplate())}`,
    download: ot('registry.templateFile'),
    'data-action': 'import-template',
  }, ot('registry.template'));
  return h('div', { class: 'import-help', 'data-import-help': '' },
    h('p', {}, ot('registry.importColumns')),
    h('p', { 'data-import-codes': '' }, ot('registry.importCodes')),
    h('p', { class: 'muted' }, ot('registry.importFiles'), ' ', template));
}

/** The district's office with several sub-districts says where the import's new communities go (with one, the
 *  server takes it; a sub-district's office imports into its own). */
function importSubdistrict(own: string | null): { node: HTMLElement; chosen: () => string | null } {
  const choice = select('subdistrict', []);
  const node = h('span', { hidden: true });
  if (own === null) {
    void knownSubdistricts().then((known) => {
      if (known.length < 2) return;
      choice.replaceChildren(...[['', ot('registry.importSubdistrict.none')], ...known.map((d) => [d.code, d.name || d.code])]
        .map(([code, name]) => h('option', { value: code }, name)));
      node.replaceChildren(field(ot('registry.importSubdistrict'), choice, ot('registry.importSubdistrictHint')));
      node.hidden = false;
    }, () => undefined);
  }
  return { node, chosen: () => (node.hidden || !choice.value ? null : choice.value) };
}

function importer(onDone: () => void): HTMLElement {
  const file = h('input', { type: 'file', name: 'file', accept: '.csv,.xlsx,text/csv,' + XLSX });
  const dry = h('input', { type: 'checkbox', name: 'dry_run' });
  const create = h('input', { type: 'checkbox', name: 'create', checked: true });
  // Off by default: a name one character away from a registered one is refused with both names, not created.
  const similar = h('input', { type: 'checkbox', name: 'create_similar' });
  const where = importSubdistrict(ownSubdistrict());
  const bar = h('progress', { max: '1', value: '0', hidden: true, 'data-import-progress': '' });
  const count = h('span', { class: 'muted' });
  const out = h('div', {});
  const f = form({ 'data-form': 'import' }, [
    importHelp(),
    field(ot('registry.file'), file),
    h('label', { class: 'inline' }, dry, ot('registry.dryRun')),
    h('label', { class: 'inline' }, create, ot('registry.create')),
    h('label', { class: 'inline' }, similar, ot('registry.createSimilar')),
    where.node,
    submit(ot('registry.start')),
    h('div', { class: 'progress-row' }, bar, ' ', count),
    out,
  ], async () => {
    const chosen = file.files?.[0];
    if (!chosen) throw new Error(ot('registry.noFile'));
    out.replaceChildren();
    count.textContent = '';
    bar.hidden = false;
    bar.value = 0;
    const query = {
      dry_run: dry.checked ? 1 : null,
      create: create.checked ? 1 : null,
      create_similar: create.checked && similar.checked ? 1 : null,
      subdistrict: where.chosen(),
      file: chosen.name, // the audit log names the import by it
    };
    let job = await upload<ImportJob>(
      `/api/office/import${qs(query)}`,
      chosen,
      contentTypeOf(chosen),
    );
    let wait = POLL_MS;
    let lost = false;
    for (;;) {
      bar.max = Math.max(1, job.total);
      bar.value = job.done;
      const progress = ot('registry.progress', { done: job.done, total: job.total });
      count.textContent = lost ? `${progress} · ${ot('registry.reconnecting')}` : progress;
      if (job.status !== 'running') break;
      await new Promise((r) => setTimeout(r, wait));
      try {
        job = await get<ImportJob>(`/api/office/import/${encodeURIComponent(job.job)}`);
        [wait, lost] = [POLL_MS, false];
      } catch (err) {
        // The server restarting (a 5xx from the proxy, or no answer) goes on with the job: keep asking.
        if (err instanceof ApiError && err.status < 500) throw err;
        [wait, lost] = [Math.min(wait * 2, MAX_POLL_MS), true];
      }
    }
    out.replaceChildren(importReport(job));
    if (!job.dry_run) onDone();
    if (job.status === 'failed') throw new Error(reasonIn(str(job.reason)));
    return job.dry_run ? ot('registry.dryChecked') : ot('common.saved');
  });
  return marked(section(ot('registry.import'), f), 'import');
}

export interface Community {
  code: string;
  name: string;
  subdistrict?: string;
  shops?: number;
  grids?: { code: string; name: string; workers: string[]; shops: number }[];
}

/** `GET /api/office/posters/address`: the address the QR codes and posters hold, and what keeps phones from it. */
export interface PosterAddress {
  base: string;
  url: string; // `${base}/s/{code}`
  configured: boolean; // MASHANG_PUBLIC_URL, else the address this browser reached the server by
  loopback: boolean;
  localhost: boolean;
  private: boolean;
  http: boolean;
  ok: boolean;
}

/** Why phones may not open the posters' address, most serious first (none: it looks right). */
export function posterProblems(a: PosterAddress): ('loopback' | 'private' | 'http')[] {
  const found: ('loopback' | 'private' | 'http')[] = [];
  if (a.loopback || a.localhost) found.push('loopback');
  if (a.private) found.push('private');
  if (a.http) found.push('http');
  return found;
}

/** The address the posters will print, where it comes from, and, when phones may not open it, a warning that
 *  says why and to set MASHANG_PUBLIC_URL (the posters are made all the same: tests and demos print locally). */
export function posterAddressBlock(a: PosterAddress): HTMLElement {
  const problems = posterProblems(a);
  const shown = a.url.replace('{code}', ot('registry.posterCode'));
  return h(
    'div',
    { class: 'poster-address', 'data-poster-address': a.base, 'data-poster-ok': String(problems.length === 0) },
    h('p', {}, ot('registry.posterAddress'), ' ', h('code', {}, shown)),
    h('p', { class: 'muted' }, ot(a.configured ? 'registry.posterAddressSet' : 'registry.posterAddressUnset')),
    problems.length
      ? h('div', {
          class: 'warn poster-warning',
          role: 'alert',
          'data-poster-warning': problems.join(' '),
        },
        h('strong', {}, `⚠ ${ot('registry.posterWarning')}`),
        h('ul', {}, ...problems.map((p) => h('li', {}, ot(`registry.posterWarning.${p}`)))),
        h('p', {}, ot('registry.posterWarning.fix')))
      : null,
  );
}

/** The poster screen's address block, filled from the server. */
export function posterAddressBox(): HTMLElement {
  const box = h('div', { 'data-poster-address-box': '' });
  void loadInto(box, async () => posterAddressBlock(await get<PosterAddress>('/api/office/posters/address')));
  return box;
}

/** A grid as the posters' choice offers it: name, community and how many shops (posters) it has. */
function posterGridChoice(grid: string, community: string, shops: number): string {
  return ot('registry.postersGridChoice', { grid, community, shops: String(shops) });
}

/** A grid as the shop form's grid field offers it: 网格（社区）. */
function shopGridChoice(grid: string, community?: string): string {
  return community ? `${grid}（${community}）` : grid;
}

function posters(communities: Community[]): HTMLElement {
  const status = h('p', { class: 'form-status', role: 'status' });
  const shop = input('poster_shop', { placeholder: 'S0001', maxlength: '32' });
  // A grid's posters are the stack its grid worker takes round (the seed: 由网格员送到每家每户张贴).
  const grids = communities.flatMap((c) => (c.grids ?? []).map((g): [string, string] =>
    [g.code, posterGridChoice(g.name, c.name, g.shops)]));
  const grid = select('poster_grid', grids, grids[0]?.[0]);
  const printGrid = button(ot('registry.postersGrid'), () =>
    downloadShown(status, `/api/office/posters.pdf${qs({ grid: grid.value })}`, `posters-${grid.value}.pdf`));
  printGrid.dataset.postersGrid = '';
  printGrid.disabled = grids.length === 0;
  const printShop = button(ot('registry.postersShop'), () =>
    downloadShown(status, `/api/office/posters.pdf${qs({ shop: shop.value.trim() })}`, `poster-${shop.value.trim()}.pdf`));
  printShop.dataset.postersShop = '';
  // Enter in the shop's code prints its poster, as the button does (no form holds the field: Enter did nothing);
  // not the Enter that ends an input method's composition.
  shop.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || event.isComposing) return;
    event.preventDefault();
    printShop.click();
  });
  return marked(section(
    ot('registry.posters'),
    posterAddressBox(),
    table(
      [
        { label: ot('common.code'), cell: (c: Community) => c.code },
        { label: ot('common.community'), cell: (c: Community) => c.name },
        { label: ot('workers.shops'), cell: (c: Community) => String(c.shops ?? ''), cls: 'num' },
        {
          label: ot('registry.postersCommunity'),
          cell: (c: Community) => {
            const b = button(ot('registry.postersCommunity'), () =>
              downloadShown(status, `/api/office/posters.pdf${qs({ community: c.code })}`, `posters-${c.code}.pdf`));
            b.dataset.posters = c.code;
            return b;
          },
        },
      ],
      communities,
      { 'data-table': 'communities' },
    ),
    h('div', { class: 'row' }, field(ot('registry.postersGrid'), grid, ot('registry.postersGridHint')), printGrid),
    h('div', { class: 'row' }, field(ot('registry.postersShop'), shop), printShop),
    status,
  ), 'posters');
}

const SHOP_FIELDS = ['code', 'name', 'address', 'category', 'grid'] as const;

/** The shop form's labels, by the field's name in the API's body (a refusal names it so). */
const SHOP_LABELS = {
  code: 'common.code',
  name: 'common.name',
  address: 'common.address',
  category: 'common.category',
  grid: 'common.grid',
  contact: 'ranking.contact',
  'contact.name': 'registry.contactName',
  'contact.phone': 'registry.contactPhone',
} as const;

/** A shop of the registry as `GET /api/office/registry/shops?code=` lists it. */
export interface RegisteredShop {
  code: string;
  name?: string;
  address?: string;
  category?: string;
  grid?: string;
  contact?: Contact | null;
  owner_activated?: boolean;
}

/** The body of the shop form's save: the fields filled in (an empty one is not sent, and the server keeps what it
 *  has), and the contact (负责人, 联系电话). The contact is sent whole when the form shows the shop's (`shown`: read
 *  into it for this code, so emptying both fields removes it); else a field typed in is sent with the other part as
 *  the shop has it (`current`), and nothing typed keeps it. */
export function shopBody(
  values: Readonly<Record<string, string>>,
  shown: boolean,
  current: Contact | null = null,
): Record<string, string | Contact> {
  const body: Record<string, string | Contact> = {};
  for (const n of SHOP_FIELDS) {
    const v = (values[n] ?? '').trim();
    if (v) body[n] = v;
  }
  const name = (values.contact_name ?? '').trim();
  const phone = (values.contact_phone ?? '').trim();
  if (shown) body.contact = { name, phone };
  else if (name || phone) body.contact = { name: name || current?.name || '', phone: phone || current?.phone || '' };
  return body;
}

/** A shop, new or edited (by its code): a registered shop's code fills the fields left empty with what it has,
 *  its contact included. The category and the grid are offered from lists (a category's code or a survey word
 *  such as 餐饮, a grid's code or its name: the server takes either). */
export function shopForm(grids: readonly { code: string; name: string; communityName?: string }[]): HTMLElement {
  const offered: Partial<Record<(typeof SHOP_FIELDS)[number], [string, string][]>> = {
    category: CATEGORIES.filter((c) => c !== '*').map((c) => [c, label('category', c)]),
    grid: grids.map((g) => [g.code, shopGridChoice(g.name, g.communityName)]),
  };
  const controls = new Map<string, HTMLInputElement>();
  const inputs = SHOP_FIELDS.map((n) => {
    const choices = offered[n];
    const control = input(n, { maxlength: '200', required: n === 'code', ...(choices ? { list: `shop-${n}-choices` } : {}) });
    controls.set(n, control);
    const list = choices ? h('datalist', { id: `shop-${n}-choices` }, ...choices.map(([value, text]) => h('option', { value }, text))) : null;
    return field(ot(SHOP_LABELS[n]), list ? h('span', {}, control, list) : control);
  });
  const person = input('contact_name', { maxlength: '50', autocomplete: 'off' });
  // No pattern: the server says what a phone may hold (server/models/registry.py `CONTACT_HELP`), Chinese first, and
  // takes full-width digits as a Chinese keyboard types them.
  const phone = input('contact_phone', { type: 'tel', maxlength: '40', autocomplete: 'off' });
  controls.set('contact_name', person).set('contact_phone', phone);
  const code = controls.get('code')!;
  // The code whose shop the form shows (its contact read into the fields), and what was read into each field: a
  // field still holding it is the shop's, not typed, and another code read in replaces it (or empties it for a new
  // shop) rather than save the first shop's name and contact under the second's code.
  let shownFor = '';
  const filled = new Map<string, string>();
  code.addEventListener('change', () => {
    const asked = code.value.trim();
    shownFor = '';
    const read = (shop: RegisteredShop | undefined): void => {
      if (code.value.trim() !== asked) return; // another code typed meanwhile: its own answer fills the form
      const contact = contactOf(shop?.contact);
      const have: Record<string, string | null | undefined> = {
        name: shop?.name, address: shop?.address, category: shop?.category, grid: shop?.grid,
        contact_name: contact?.name, contact_phone: contact?.phone,
      };
      for (const [n, value] of Object.entries(have)) {
        const control = controls.get(n)!;
        const untouched = !control.value.trim() || control.value === filled.get(n);
        if (!untouched) continue;
        control.value = value ?? '';
        filled.set(n, control.value);
      }
      shownFor = shop ? asked : '';
    };
    if (!asked) return read(undefined);
    void get<{ items: RegisteredShop[] }>(`/api/office/registry/shops${qs({ code: asked })}`)
      .then((answer) => read(answer.items[0]), () => undefined); // not read: a typed contact is sent as it is
  });
  const contactFields = h('div', { class: 'contact-fields', 'data-contact-fields': '' },
    field(ot('registry.contactName'), person),
    field(ot('registry.contactPhone'), phone, ot('registry.contactHint')));
  return section(ot('registry.shop'), form({ 'data-form': 'shop' }, [...inputs, contactFields, submit(ot('common.save'))], naming(SHOP_LABELS, async (data) => {
    const values = Object.fromEntries([...controls.keys()].map((n) => [n, String(data.get(n) ?? '')]));
    const code = values.code!.trim();
    // Asked first (an empty list for a new code), not found out by a PATCH's 404: the console stays clean.
    const known = await get<{ items: RegisteredShop[] }>(`/api/office/registry/shops${qs({ code })}`);
    const registered = known.items[0];
    const body = shopBody(values, shownFor === code && registered !== undefined, contactOf(registered?.contact));
    const { code: _, ...changes } = body;
    if (registered) await send('PATCH', `/api/office/shops/${encodeURIComponent(code)}`, changes);
    else await send('POST', '/api/office/shops', body); // a new shop
    return h('a', { href: officePath('shops', code) }, `${ot('common.saved')}: ${code}`);
  })));
}

/** A community, new or renamed. The district's office says which sub-district a new one belongs to (the server
 *  takes the only one when it is left empty, and moves a community given another); a sub-district's office adds
 *  communities to its own, and is asked nothing. */
function communityForm(
  communities: Community[],
  subdistricts: readonly Subdistrict[],
  added: (code: string, name: string) => void,
  own: string | null,
): HTMLElement {
  const named = (code: string): string => subdistricts.find((d) => d.code === code)?.name ?? code;
  return section(ot('registry.community'), form({ 'data-form': 'community' }, [
    field(ot('common.code'), input('code', { required: true, maxlength: '64' })),
    field(ot('common.name'), input('name', { required: true, maxlength: '200' })),
    own === null
      ? field(ot('registry.communitySubdistrict'), input('subdistrict', { maxlength: '64', list: 'subdistrict-codes' }),
        ot('registry.communitySubdistrictHint'))
      : null,
    submit(ot('common.save')),
  ], naming({ code: 'common.code', name: 'common.name', subdistrict: 'registry.communitySubdistrict' }, async (data) => {
    const code = String(data.get('code')).trim();
    const name = String(data.get('name') ?? '').trim();
    const body: Record<string, string | boolean> = communityBody(name, String(data.get('subdistrict') ?? ''), own);
    const move = moveOf(code, String(body.subdistrict ?? ''), communities);
    if (move !== null) {
      // Its grids and shops, their rankings and figures go to the other sub-district's office: asked by name.
      const asked = { community: move.community, from: named(move.from), to: named(move.to) };
      if (!confirm(ot('registry.moveConfirm', { ...asked, shops: String(move.shops), grids: String(move.grids) }))) {
        return ot('registry.moveCancelled');
      }
      body.move = true;
    }
    const saved = await send<Community>('PUT', `/api/office/registry/communities/${encodeURIComponent(code)}`, body);
    forgetSubdistricts(); // a community may bring a sub-district the lists' choice should offer
    const known = communities.find((c) => c.code === code);
    if (known) Object.assign(known, { name: saved.name, subdistrict: saved.subdistrict });
    else communities.push({ code, name: saved.name, subdistrict: saved.subdistrict, shops: 0, grids: [] });
    added(code, saved.name);
    return move === null ? ot('common.saved') : ot('registry.moved', { community: move.community, to: named(move.to) });
  })));
}

export interface Move {
  community: string;
  from: string;
  to: string;
  grids: number;
  shops: number;
}

/** What saving community `code` with sub-district `chosen` would move: its grids and shops, from the sub-district
 *  it is in; null for a new community, a rename, or its own sub-district. */
export function moveOf(code: string, chosen: string, communities: readonly Community[]): Move | null {
  const known = communities.find((c) => c.code === code);
  const to = chosen.trim();
  if (!known || !to || !known.subdistrict || known.subdistrict === to) return null;
  const grids = known.grids ?? [];
  const shops = known.shops ?? grids.reduce((sum, g) => sum + g.shops, 0);
  return { community: known.name, from: known.subdistrict, to, grids: grids.length, shops };
}

/** The body of `PUT /api/office/registry/communities/{code}`: a sub-district only when the district's office
 *  named one. */
export function communityBody(name: string, subdistrict: string, own: string | null): Record<string, string> {
  const chosen = own === null ? subdistrict.trim() : '';
  return chosen ? { name, subdistrict: chosen } : { name };
}

/** The sub-districts' names: the monthly report's heading shows the name, not the code communities give. A
 *  sub-district's office names its own only: the code is fixed to it. */
function subdistrictForm(subdistricts: Subdistrict[], own: string | null): HTMLElement {
  const code = own === null
    ? input('code', { required: true, maxlength: '64', list: 'subdistrict-codes' })
    : input('code', { required: true, maxlength: '64', value: own, readonly: true });
  const codes = h('datalist', { id: 'subdistrict-codes' }, ...subdistricts.map((d) => h('option', { value: d.code }, d.name ?? '')));
  return section(ot('registry.subdistrict'), form({ 'data-form': 'subdistrict' }, [
    field(ot('common.code'), code, own === null ? undefined : ot('registry.subdistrictOwn')),
    codes,
    field(ot('common.name'), input('name', { required: true, maxlength: '64', placeholder: ot('registry.subdistrictExample') })),
    submit(ot('common.save')),
  ], naming({ code: 'common.code', name: 'common.name' }, async (data) => {
    const named = heldSubdistrict(String(data.get('code') ?? '').trim(), own) ?? '';
    const saved = await send<Subdistrict>('PUT', `/api/office/registry/subdistricts/${encodeURIComponent(named)}`, {
      name: String(data.get('name') ?? '').trim(),
    });
    forgetSubdistricts();
    return `${ot('common.saved')}: ${saved.code} = ${saved.name ?? ''}`;
  })));
}

export interface GridRow {
  code: string;
  name: string;
  community: string; // the community's code
  workers: string[];
}

/** The body of `PUT /api/office/registry/grids/{code}`. `workers` is sent whenever the field shows the grid's
 *  workers (the grid was taken into the form with 修改, or the field was typed in): empty, it removes them all. An
 *  untouched empty field sends none, which leaves a grid typed in by its code as it is (the API's "not sent"). */
export function gridBody(
  name: string,
  community: string,
  workersText: string,
  shown: boolean,
): { name: string; community: string; workers?: string[] } {
  const workers = workersText.split(/[,，、\s]+/).filter((w) => w !== '');
  return { name: name.trim(), community, ...(shown || workers.length ? { workers } : {}) };
}

/** The grids table's 网格员 cell of grid `code`: who is on it, by name and username (李娜（lina）). */
function workersCell(code: string, workers: readonly string[]): HTMLElement {
  const cell = h('span', { 'data-grid-workers': code }, joinList(workers));
  void staffNames().then((names) => {
    cell.textContent = joinList(workers.map((w) => {
      const name = names.get(`grid:${w}`);
      if (!name || name === w) return w;
      return getLang() === 'en' ? `${name} (${w})` : `${name}（${w}）`;
    }));
  }, () => undefined);
  return cell;
}

function gridForm(communities: Community[], saved: (grid: GridRow) => void): {
  node: HTMLElement;
  add: (code: string, name: string) => void;
  edit: (grid: GridRow) => void;
} {
  const community = select('community', communities.map((c) => [c.code, c.name] as [string, string]), communities[0]?.code);
  const add = (code: string, name: string): void => {
    const known = [...community.options].find((o) => o.value === code);
    if (known) known.textContent = name;
    else community.append(h('option', { value: code }, name));
  };
  const code = input('code', { required: true, maxlength: '64' });
  const name = input('name', { required: true, maxlength: '200' });
  const workers = input('workers', { maxlength: '2000' });
  // Whether the workers field shows what the grid is to have: an empty field then removes them all (it used to be
  // dropped from the body, so a grid's last worker could never be taken off).
  let shown = false;
  workers.addEventListener('input', () => (shown = true));
  code.addEventListener('input', () => (shown = false)); // another grid: its workers are not the ones shown
  // A grid of the table, into the form: its grid workers are changed without typing its code and name again
  // (a name typed differently renamed it).
  const edit = (grid: GridRow): void => {
    [code.value, name.value, community.value, workers.value] = [grid.code, grid.name, grid.community, grid.workers.join(', ')];
    shown = true;
    node.scrollIntoView({ block: 'center' });
    workers.focus();
  };
  const node = section(ot('registry.gridForm'), form({ 'data-form': 'grid' }, [
    field(ot('common.code'), code),
    field(ot('common.name'), name),
    field(ot('common.community'), community),
    field(ot('registry.workers'), workers, ot('registry.workersHint')),
    submit(ot('common.save')),
  ], naming({ code: 'common.code', name: 'common.name', community: 'common.community', workers: 'registry.workers' }, async (data) => {
    const gridCode = String(data.get('code')).trim();
    const body = gridBody(String(data.get('name') ?? ''), String(data.get('community') ?? ''), String(data.get('workers') ?? ''), shown);
    const had = communities.flatMap((c) => c.grids ?? []).find((g) => g.code === gridCode)?.workers ?? [];
    if (body.workers?.length === 0 && had.length > 0
      && !confirm(ot('registry.clearWorkersConfirm', { grid: body.name || gridCode, workers: joinList(had) }))) {
      return ot('registry.clearWorkersCancelled');
    }
    const answer = await send<GridRow>('PUT', `/api/office/registry/grids/${encodeURIComponent(gridCode)}`, body);
    // The field shows the usernames saved (a worker typed by name is saved by username), and the table who is on
    // the grid now (`saved`, which also keeps them for the next save: it asks again only if it has workers to
    // remove): it kept showing the grid's workers of before, as if the save had done nothing.
    workers.value = answer.workers.join(', ');
    saved(answer);
  })));
  return { node, add, edit };
}

interface User {
  id: string;
  role: string;
  username?: string;
  name?: string;
  disabled?: boolean;
  subdistrict?: string | null;
}

/** Staff accounts: the list (with each one's sub-district), a password reset, a sign-out everywhere, and a new
 *  account, which the district's office may file under a sub-district (a sub-district's office's are its own). */
function users(subdistricts: Subdistrict[], own: string | null): HTMLElement {
  const box = h('div', {});
  const status = h('p', { class: 'form-status', role: 'status' });
  const done = (text: string): void => {
    status.className = 'form-status ok';
    status.textContent = text;
  };
  const fail = (err: unknown): void => {
    status.className = 'form-status error';
    status.textContent = `${ot('common.failed')}: ${reasonOf(err)}`;
  };
  const actions = (u: User): HTMLElement => {
    const who = str(u.name) || u.id;
    const path = `/api/office/users/${encodeURIComponent(u.id)}`;
    return h('span', { class: 'row' },
      button(ot('registry.resetPassword'), async () => {
        const password = prompt(ot('registry.newPassword', { user: who }));
        if (!password) return;
        await send('POST', `${path}/password`, { password }).then(() => done(ot('registry.done.password', { user: who })), fail);
      }),
      button(ot('registry.revoke'), async () => {
        if (!confirm(ot('registry.revokeConfirm', { user: who }))) return;
        await send('POST', `${path}/revoke`).then(() => done(ot('registry.done.revoke', { user: who })), fail);
      }, 'danger'));
  };
  const load = (): void => void loadInto(box, async () => {
    const rows = listOf<User>(await get<unknown>('/api/office/users')).filter((u) => u.role !== 'owner');
    return table(
      [
        { label: ot('registry.role'), cell: (u: User) => (u.role === 'office' ? ot('registry.role.office') : ot('registry.role.grid')) },
        { label: ot('registry.username'), cell: (u: User) => str(u.username ?? u.id) },
        { label: ot('registry.displayName'), cell: (u: User) => str(u.name) },
        {
          label: ot('registry.userSubdistrict'),
          cell: (u: User) => (u.subdistrict ? subdistrictName(u.subdistrict, subdistricts) : ''),
        },
        { label: '', cell: actions },
      ],
      rows,
      { 'data-table': 'users' },
      (u) => ({ 'data-user': u.id, 'data-subdistrict': u.subdistrict ?? undefined }),
    );
  });
  load();
  const choices = subdistrictChoices(subdistricts, own);
  // Chosen from the start: an untouched choice sent no role ("role: a non-empty string is required").
  const role = select('role', [['grid', ot('registry.role.grid')], ['office', ot('registry.role.office')]], 'grid');
  const sub = choices ? select('subdistrict', choices, defaultSubdistrict(subdistricts, role.value)) : null;
  // Until the office chooses a sub-district, it follows the role (a grid worker under the only one, an office none).
  let chosen = false;
  sub?.addEventListener('change', () => void (chosen = true));
  const byRole = (): void => {
    if (sub && !chosen) sub.value = defaultSubdistrict(subdistricts, role.value);
  };
  role.addEventListener('change', byRole);
  const add = form({ 'data-form': 'user' }, [
    field(ot('registry.role'), role),
    sub ? field(ot('registry.userSubdistrict'), sub) : null,
    // The server's rule (server/accounts.py USERNAME): what a grid can list, so every account can be given one.
    field(ot('registry.username'), input('username', {
      required: true,
      maxlength: '32',
      autocomplete: 'off',
      pattern: '[a-z0-9][a-z0-9_.\\-]{0,31}',
      title: ot('registry.usernameHint'),
    }), ot('registry.usernameHint')),
    field(ot('registry.displayName'), input('name', { required: true, maxlength: '64' })),
    field(ot('registry.password'), input('password', { type: 'password', required: true, minlength: '8', autocomplete: 'new-password' })),
    submit(ot('common.save')),
  ], naming({ role: 'registry.role', username: 'registry.username', name: 'registry.displayName', password: 'registry.password', subdistrict: 'registry.userSubdistrict' }, async (data, f) => {
    const fields = Object.fromEntries(['role', 'username', 'name', 'password', 'subdistrict'].map((k) => [k, String(data.get(k) ?? '')]));
    await send('POST', '/api/office/users', newUserBody(fields, own));
    forgetStaffNames();
    f.reset();
    chosen = false;
    byRole();
    load();
  }));
  return section(ot('registry.users'), box, status, h('h3', {}, ot('registry.userForm')), add);
}

/** The reminder after an activation code for a shop whose owner had activated already (`ownerActivated`): the code
 *  is for a new owner (or one who forgot the PIN), and the 负责人 and phone `registered` may be the previous owner's;
 *  `edit` offers to change them. Null for a shop without a contact, or without an owner yet. */
export function ownerContactReminder(ownerActivated: unknown, registered: unknown, edit: HTMLElement): HTMLElement | null {
  const contact = contactOf(registered);
  if (ownerActivated !== true || !contact) return null;
  const person = [contact.name, contact.phone].filter(Boolean).join(' ');
  return h('div', { class: 'warn', 'data-contact-reminder': '' }, ot('registry.ownerContact', { person }), ' ', edit);
}

/** The desk's shop form showing shop `code` (its fields read from the registry, `shopForm`), the cursor in its
 *  负责人: where the reminder of a new owner's contact leads. */
function editShop(root: HTMLElement, code: string): void {
  const shop = root.querySelector<HTMLFormElement>('form[data-form=shop]');
  const given = shop?.querySelector<HTMLInputElement>('input[name=code]');
  if (!shop || !given) return;
  given.value = code;
  given.dispatchEvent(new Event('change'));
  shop.scrollIntoView({ block: 'center' });
  shop.querySelector<HTMLInputElement>('input[name=contact_name]')?.focus();
}

function activation(edit: (code: string) => void): HTMLElement {
  const reminder = h('div', { class: 'activation' });
  return section(ot('registry.activation'), form({ 'data-form': 'activation' }, [
    field(ot('common.code'), input('shop', { required: true, maxlength: '32', placeholder: 'S0001' })),
    submit(ot('efile.activation')),
  ], naming({ shop: 'common.code' }, async (data) => {
    const code = String(data.get('shop')).trim();
    reminder.replaceChildren();
    const a = await send<{ code: string; expires_at: string }>('POST', `/api/shops/${encodeURIComponent(code)}/activation`);
    const known = await get<{ items: RegisteredShop[] }>(`/api/office/registry/shops${qs({ code })}`)
      .then((answer) => answer.items[0], () => undefined); // not read: the code is shown all the same
    const change = button(ot('registry.editContact'), () => edit(code));
    change.dataset.action = 'edit-contact';
    reminder.replaceChildren(ownerContactReminder(known?.owner_activated, known?.contact, change) ?? '');
    return ot('efile.activationCode', { code: a.code, expires: when(a.expires_at) });
  })), reminder);
}

/** A grid as the grids table shows it: with its community's code and name. */
type GridShown = NonNullable<Community['grids']>[number] & { community: string; communityName: string };

export const registry: Screen = (query) => {
  const lower = h('div', {});
  const load = (): Promise<void> => loadInto(lower, async () => {
    const communities = listOf<Community>(await get<unknown>('/api/office/registry/communities'), 'communities');
    const subdistricts = listOf<Subdistrict>(await get<unknown>('/api/office/registry/subdistricts'), 'subdistricts');
    const own = ownSubdistrict();
    const gridRows = (): GridShown[] =>
      communities.flatMap((c) => (c.grids ?? []).map((g) => ({ ...g, community: c.code, communityName: c.name })));
    const gridsSection = (): HTMLElement => marked(section(ot('registry.grids'), table(
      [
        { label: ot('common.code'), cell: (g: GridShown) => g.code },
        { label: ot('common.name'), cell: (g: GridShown) => g.name },
        { label: ot('common.community'), cell: (g: GridShown) => g.communityName },
        { label: ot('nav.workers'), cell: (g: GridShown) => workersCell(g.code, g.workers) },
        { label: ot('workers.shops'), cell: (g: GridShown) => String(g.shops), cls: 'num' },
        {
          label: '',
          cell: (g: GridShown) => {
            const b = button(ot('registry.editGrid'), () => grid.edit(g));
            b.dataset.editGrid = g.code;
            return b;
          },
        },
      ],
      gridRows(),
      { 'data-table': 'grids' },
    )), 'grids');
    // A grid saved again: its row in the table says who is on it now. A new grid joins the table, the posters' and
    // the shop form's choices at once (it showed 已保存 and was nowhere until the screen was opened again, which signs
    // the office out); only those are drawn again: the whole screen lost the form's 已保存 line.
    const grid = gridForm(communities, (saved) => {
      const community = communities.find((c) => c.code === saved.community);
      if (!community) return;
      // A grid saved again may have a new name, community or workers: its row, and its place in the choices, follow.
      const before = communities.flatMap((c) => c.grids ?? []).find((g) => g.code === saved.code);
      for (const c of communities) c.grids = (c.grids ?? []).filter((g) => g.code !== saved.code);
      const shops = before?.shops ?? 0;
      (community.grids ??= []).push({ code: saved.code, name: saved.name, workers: saved.workers, shops });
      const drawn = gridsSection();
      shownGrids.replaceWith(drawn);
      shownGrids = drawn;
      const option = (list: Element | null, text: string): void => {
        const known = list?.querySelector<HTMLOptionElement>(`option[value="${CSS.escape(saved.code)}"]`);
        if (known) known.textContent = text;
        else list?.append(h('option', { value: saved.code }, text));
      };
      option(lower.querySelector('select[name=poster_grid]'), posterGridChoice(saved.name, community.name, shops));
      const print = lower.querySelector<HTMLButtonElement>('[data-posters-grid]');
      if (print) print.disabled = false;
      option(lower.querySelector('#shop-grid-choices'), shopGridChoice(saved.name, community.name));
    });
    const grids = gridRows();
    let shownGrids = gridsSection();
    return [
      posters(communities),
      shownGrids,
      h('div', { class: 'two-col' }, marked(shopForm(grids), 'shop'), activation((code) => editShop(lower, code))),
      h('div', { class: 'two-col' }, communityForm(communities, subdistricts, grid.add, own), grid.node),
      h('div', { class: 'two-col' }, subdistrictForm(subdistricts, own)),
      users(subdistricts, own),
      auditLog(),
    ];
  });
  const root = h('div', { class: 'screen registry' }, h('h1', {}, ot('registry.title')), importer(() => void load()), lower);
  // Once the sections below the import are drawn: revealed earlier, the one asked for would be pushed down by them.
  void load().then(() => {
    reveal(root, query.get('section'));
    const shop = query.get('shop');
    if (query.get('section') === 'shop' && shop) editShop(lower, shop); // the cursor in its 负责人, not the heading
  });
  return root;
};
