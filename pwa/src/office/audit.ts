// The audit log (登录与操作记录): failed sign-ins, activation codes handed out and used, staff accounts made,
// passwords reset, sign-outs everywhere, phones' files brought in and the registry's changes (each with the office
// account that made it), newest first, a page at a time. A sub-district's office gets its own entries; the server
// says where the next page starts (`next`).
import { h } from '../dom';
import { getLang } from '../i18n';
import { get, qs } from './api';
import { when } from './format';
import { ot, type OfficeKey } from './i18n';
import { button, cursorPage, type CursorPage, loadInto, section, str, table } from './ui';

export interface AuditEntry {
  _id: string;
  event: string;
  account: string;
  address?: string;
  detail?: string;
  at?: string;
  import?: ImportTold;
}

/** What an import did, as the server tells it beside its entries: its job, its file's name (none for an import of
 *  an earlier release) and, while its report is kept, its status and counts. */
export interface ImportTold {
  job: string;
  file?: string | null;
  status?: string;
  created?: number;
  updated?: number;
  refused?: number;
}

export type AuditPage = CursorPage<AuditEntry>;

export const AUDIT_PAGE = 50;

const EVENTS: Record<string, OfficeKey> = {
  login_failed: 'audit.event.login_failed',
  activation_issued: 'audit.event.activation_issued',
  owner_activated: 'audit.event.owner_activated',
  staff_created: 'audit.event.staff_created',
  password_reset: 'audit.event.password_reset',
  signed_out: 'audit.event.signed_out',
  device_export: 'audit.event.device_export',
  shop_registered: 'audit.event.shop_registered',
  shop_changed: 'audit.event.shop_changed',
  shop_moved: 'audit.event.shop_moved',
  shop_closed: 'audit.event.shop_closed',
  shop_reopened: 'audit.event.shop_reopened',
  community_saved: 'audit.event.community_saved',
  community_moved: 'audit.event.community_moved',
  subdistrict_named: 'audit.event.subdistrict_named',
  grid_saved: 'audit.event.grid_saved',
  import_started: 'audit.event.import_started',
  rules_saved: 'audit.event.rules_saved',
  template_saved: 'audit.event.template_saved',
  ranking_published: 'audit.event.ranking_published',
  followup_recorded: 'audit.event.followup_recorded',
};

export function auditPath(before: string | null, limit: number = AUDIT_PAGE): string {
  return `/api/office/audit${qs({ limit, before })}`;
}

/** A page of the log for the screen, filled from as many answers as it takes (`cursorPage`): a sub-district's office
 *  in a busy district may get few of its own entries in one answer. */
export function auditPage(
  ask: (path: string) => Promise<AuditPage>,
  before: string | null,
  want: number = AUDIT_PAGE,
): Promise<AuditPage> {
  return cursorPage((from, limit) => ask(auditPath(from, limit)), before, want);
}

/** What an entry is about, as the office names it: an owner or a shop by the shop's code, staff by the username,
 *  a community or grid by its code, an import by its job (by its file when the server names it: `subjectOf`). */
export function accountOf(account: string): string {
  const [kind, ...rest] = account.split(':');
  const name = rest.join(':');
  if (kind === 'owner' && name) return ot('audit.owner', { shop: name });
  if (rest[0] === 'shop' && kind) return ot('audit.shop', { shop: kind });
  if (kind === 'registry' && rest[0] === 'community') return ot('audit.community', { code: rest.slice(1).join(':') });
  if (kind === 'registry' && rest[0] === 'grid') return ot('audit.grid', { code: rest.slice(1).join(':') });
  if (kind === 'import' && name) return ot('audit.import', { job: name });
  if (account === 'district:rules') return ot('audit.rules');
  if (kind === 'district' && rest[0] === 'template') return ot('audit.template', { id: rest.slice(1).join(':') });
  if (kind === 'office' && rest[0] === 'publication') {
    return ot('audit.publication', { subdistrict: rest[1] ?? '', month: rest.slice(2).join(':') });
  }
  return ['staff', 'grid', 'office'].includes(kind ?? '') && name ? name : account;
}

// The fixed English the server writes into an entry's detail (server/accounts.py, server/api/*.py), in Chinese.
// The log keeps what was written (entries from before stay as they are, and the sub-district's view of imports
// reads "by office:…"), so the screen says it in Chinese; in English the detail is shown as written.
const WORDS: Record<string, string> = {
  'activation code issued': '发放了激活码',
  'activation code used': '使用激活码激活',
  'Wrong username or password.': '用户名或密码错误',
  'Wrong shop code or PIN.': '店铺编号或密码错误',
  'Wrong or expired activation code.': '激活码错误或已过期',
  'the shop is closed': '店铺已停业',
  "This shop's account is disabled: ask the safety office.": '店主账号已停用',
  'This account no longer exists.': '账号已不存在',
};

const PATTERNS: [RegExp, (...m: string[]) => string][] = [
  [/^(\d+) row\(s\)$/, (n) => `${n} 行`],
  [/^grid (.+) to (.+)$/, (a, b) => `网格 ${a} → ${b}`],
  [/^sub-district (.+) to (.+)$/, (a, b) => `街道 ${a} → ${b}`],
  [/^(.*), grid ([^,]+)$/, (name, grid) => `${name}，网格 ${grid}`],
  [/^(.*), ([^,]+), workers: (.*)$/, (name, community, workers) => `${name}，社区 ${community}，网格员：${workers === '-' ? '无' : workers}`],
  [/^(?:(.*), )?version (\d+)$/, (title, v) => `${title ? `${title}，` : ''}第 ${v} 版`],
  [/^device (.*): (\d+) stored, (\d+) already there, (\d+) refused$/, (d, a, b, c) => `设备 ${d}：保存 ${a}，服务器已有 ${b}，拒绝 ${c}`],
];

const CHANGED: Record<string, string> = { name: '名称', address: '地址', category: '类别', contact: '负责人及电话' };
// The server logs that a shop's contact changed, never the person or the number.
const CONTACT_CHANGE: Record<string, string> = { changed: '已修改', removed: '已删除' };

function detailWords(text: string): string {
  const known = /^(.*?)( \(a known device\))?$/.exec(text);
  const [core, device] = [known?.[1] ?? text, known?.[2]];
  const said = WORDS[core];
  if (said) return device ? `${said}（常用设备）` : said;
  for (const [pattern, say] of PATTERNS) {
    const m = pattern.exec(text);
    if (m) return say(...m.slice(1).map((part) => part ?? ''));
  }
  // A shop's changes: "name: 新名; address: 新址; contact: changed".
  const parts = text.split('; ').map((part) => /^(name|address|category|contact): (.*)$/s.exec(part));
  if (parts.every((m) => m !== null)) {
    return parts.map((m) => `${CHANGED[m![1]!]}：${m![1] === 'contact' ? CONTACT_CHANGE[m![2]!] ?? m![2] : m![2]}`).join('；');
  }
  return text;
}

/** An entry's detail as the office reads it: who did it (`by office:wang` → 操作人 wang) and the server's fixed
 *  English in Chinese; names and codes as they are. */
export function detailOf(detail: string | undefined): string {
  const text = str(detail);
  if (getLang() === 'en' || !text) return text;
  const by = /^by ([^:]+(?::[^:\s]+)?)(?:: (.*))?$/s.exec(text); // "by office:wang: 3 row(s)", "by admin"
  if (!by) return detailWords(text);
  const who = by[1]!.replace(/^(office|grid):/, '');
  return by[2] ? `操作人 ${who}：${detailWords(by[2])}` : `操作人 ${who}`;
}

/** What an entry is about, in its table cell: an import by its file's name (the job id on hover and in
 *  `data-import-job`: the id alone told the office nothing), anything else as `accountOf` names it. */
export function subjectOf(entry: AuditEntry): string | HTMLElement {
  const told = entry.import;
  if (!told?.file) return accountOf(entry.account);
  return h('span', { title: ot('audit.importJob', { job: told.job }), 'data-import-job': told.job },
    ot('audit.importFile', { file: told.file }));
}

/** An entry's detail as `detailOf` says it, and for an import what it did: 操作人 wang：4 行；新登记 3，更新 0，拒绝 1. */
export function entryDetail(entry: AuditEntry): string {
  const detail = detailOf(entry.detail);
  const told = entry.import;
  if (!told?.status) return detail;
  const sep = getLang() === 'en' ? '; ' : '；';
  const counts = ot('audit.importCounts', { created: told.created ?? 0, updated: told.updated ?? 0, refused: told.refused ?? 0 });
  const outcome = told.status === 'running'
    ? ot('audit.importRunning')
    : told.status === 'failed' ? `${ot('audit.importFailed')}${sep}${counts}` : counts;
  return detail ? `${detail}${sep}${outcome}` : outcome;
}

export function eventOf(event: string): string {
  const key = EVENTS[event];
  return key ? ot(key) : event;
}

export function auditLog(): HTMLElement {
  const box = h('div', { 'data-audit': '' });
  const rows: AuditEntry[] = [];
  const more = h('div', { class: 'row' });
  const draw = (): HTMLElement =>
    table(
      [
        { label: ot('audit.at'), cell: (e: AuditEntry) => when(e.at) },
        { label: ot('audit.event'), cell: (e: AuditEntry) => eventOf(e.event) },
        { label: ot('audit.account'), cell: (e: AuditEntry) => subjectOf(e) },
        { label: ot('audit.from'), cell: (e: AuditEntry) => str(e.address) },
        { label: ot('audit.detail'), cell: (e: AuditEntry) => entryDetail(e) },
      ],
      rows,
      { 'data-table': 'audit' },
      (e) => ({ 'data-event': e.event }),
    );
  const page = async (before: string | null): Promise<HTMLElement[]> => {
    const answer = await auditPage((path) => get<AuditPage>(path), before);
    rows.push(...answer.items);
    const next = answer.next;
    more.replaceChildren(
      ...(next
        ? [button(ot('audit.older'), () => loadInto(list, () => page(next)), 'secondary')]
        : rows.length > 0 ? [h('span', { class: 'muted', 'data-audit-end': '' }, ot('audit.end'))] : []),
    );
    return [draw()];
  };
  const list = h('div', {});
  void loadInto(list, () => page(null));
  box.append(list, more);
  return section(ot('audit.title'), h('p', { class: 'muted' }, ot('audit.hint')), box);
}
