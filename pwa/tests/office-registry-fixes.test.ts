// @vitest-environment happy-dom
// What the registry desk sends and shows: a grid's workers all taken off, the codes the import gave rows without
// one, and the sign-in log's details in Chinese.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { detailOf, entryDetail, subjectOf, type AuditEntry } from '../src/office/audit';
import { assignedCsv, gridBody, importReport, registry, TEMPLATE_HEADINGS, type ImportJob } from '../src/office/registry';
import { signIn } from '../src/session';

describe('the grid form', () => {
  it('sends an empty list when the field shows the grid and is emptied: every grid worker is taken off', () => {
    expect(gridBody(' 幸福一网格 ', 'xf', '', true)).toEqual({ name: '幸福一网格', community: 'xf', workers: [] });
    expect(gridBody('幸福一网格', 'xf', 'lina， wangfang、zhou', true).workers).toEqual(['lina', 'wangfang', 'zhou']);
  });

  it('sends no workers for a grid typed in by code with the field left alone (the API keeps them)', () => {
    expect(gridBody('幸福一网格', 'xf', '  ', false)).toEqual({ name: '幸福一网格', community: 'xf' });
    expect(gridBody('幸福一网格', 'xf', 'lina', false).workers).toEqual(['lina']);
  });
});

describe('a new grid saved on the grid form', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    document.body.replaceChildren();
  });

  /** The registry desk of two communities, the first with one grid; a grid PUT is answered as saved under `code`. */
  async function desk(code: string): Promise<HTMLElement> {
    signIn({ token: 't1', user: { id: 'office:wang', role: 'office', name: '王' } });
    const communities = [
      { code: 'c1', name: '幸福社区', shops: 5, grids: [{ code: 'c1-g1', name: '幸福一网格', workers: ['lina'], shops: 5 }] },
      { code: 'heping', name: '和平社区', shops: 0, grids: [] },
    ];
    vi.stubGlobal('fetch', async (path: string, init?: RequestInit) => {
      if (init?.method === 'PUT') {
        const body = JSON.parse(String(init.body)) as { name: string; community: string; workers?: string[] };
        return new Response(JSON.stringify({ code, ...body, workers: body.workers ?? [] }), { status: 200 });
      }
      const answers: Record<string, unknown> = { '/api/office/registry/communities': communities };
      return new Response(JSON.stringify(answers[path.split('?')[0]!] ?? []), { status: 200 });
    });
    const root = registry(new URLSearchParams(), []);
    document.body.append(root);
    await vi.waitFor(() => expect(root.querySelector('[data-edit-grid="c1-g1"]')).not.toBeNull());
    return root;
  }

  it('is in the grids table, the posters\' and the shop form\'s choices at once, the form still saying 已保存', async () => {
    const root = await desk('heping-g1');
    const f = root.querySelector<HTMLFormElement>('[data-form=grid]')!;
    f.querySelector<HTMLInputElement>('input[name=code]')!.value = 'heping-g1';
    f.querySelector<HTMLInputElement>('input[name=name]')!.value = '和平一网格';
    f.querySelector<HTMLSelectElement>('select[name=community]')!.value = 'heping';
    f.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(f.querySelector('.form-status.ok')?.textContent).toBe('已保存'));
    // It said 已保存 and the grid was nowhere on the screen until it was opened again (which signs the office out).
    const rows = [...root.querySelectorAll('[data-table=grids] tbody tr')].map((tr) => tr.querySelector('td')?.textContent);
    expect(rows).toEqual(['c1-g1', 'heping-g1']);
    expect(root.querySelector('[data-table=grids] tbody tr:last-child')?.textContent).toContain('和平社区');
    const posterChoices = [...root.querySelectorAll<HTMLOptionElement>('select[name=poster_grid] option')].map((o) => o.value);
    expect(posterChoices).toEqual(['c1-g1', 'heping-g1']);
    expect(root.querySelector('#shop-grid-choices option[value="heping-g1"]')?.textContent).toBe('和平一网格（和平社区）');
    // Taken into the form with 修改 from its new row, as any grid.
    root.querySelector<HTMLButtonElement>('[data-edit-grid="heping-g1"]')!.click();
    expect(f.querySelector<HTMLInputElement>('input[name=name]')!.value).toBe('和平一网格');
  });

  it('renamed or moved to another community, its row and its choices follow', async () => {
    const root = await desk('c1-g1');
    root.querySelector<HTMLButtonElement>('[data-edit-grid="c1-g1"]')!.click();
    const f = root.querySelector<HTMLFormElement>('[data-form=grid]')!;
    f.querySelector<HTMLInputElement>('input[name=name]')!.value = '和平东网格';
    f.querySelector<HTMLSelectElement>('select[name=community]')!.value = 'heping';
    f.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(f.querySelector('.form-status.ok')?.textContent).toBe('已保存'));
    const rows = root.querySelectorAll('[data-table=grids] tbody tr');
    expect(rows).toHaveLength(1); // moved, not listed twice
    expect(rows[0]?.textContent).toContain('和平东网格');
    expect(rows[0]?.textContent).toContain('和平社区');
    expect(rows[0]?.textContent).toContain('5'); // its shops went with it
    expect(root.querySelectorAll('select[name=poster_grid] option[value="c1-g1"]')).toHaveLength(1);
    expect(root.querySelector('select[name=poster_grid] option[value="c1-g1"]')?.textContent).toContain('和平东网格');
    expect(root.querySelector('#shop-grid-choices option[value="c1-g1"]')?.textContent).toBe('和平东网格（和平社区）');
  });
});

describe('a new staff account on the users form, in a district of one sub-district (as `mashang setup` makes it)', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    document.body.replaceChildren();
  });

  it('is a grid worker of that sub-district unless the office chooses; an office account stays the whole district\'s', async () => {
    signIn({ token: 't1', user: { id: 'office:wang', role: 'office', name: '王' } });
    const sent: Record<string, string>[] = [];
    vi.stubGlobal('fetch', async (path: string, init?: RequestInit) => {
      if (init?.method === 'POST' && path === '/api/office/users') sent.push(JSON.parse(String(init.body)) as Record<string, string>);
      const answers: Record<string, unknown> = { '/api/office/registry/subdistricts': [{ code: 'minglou', name: '明楼街道' }] };
      return new Response(JSON.stringify(init?.method === 'POST' ? { ok: true } : (answers[path.split('?')[0]!] ?? [])), { status: 200 });
    });
    const root = registry(new URLSearchParams(), []);
    document.body.append(root);
    await vi.waitFor(() => expect(root.querySelector('[data-form=user]')).not.toBeNull());
    const f = root.querySelector<HTMLFormElement>('[data-form=user]')!;
    const role = f.querySelector<HTMLSelectElement>('select[name=role]')!;
    const sub = f.querySelector<HTMLSelectElement>('select[name=subdistrict]')!;
    const shown = (): string => sub.options[sub.selectedIndex]?.textContent ?? '';
    // A grid worker was filed under 全区 and showed a blank 所属街道 in the users table.
    expect(shown()).toBe('明楼街道');
    role.value = 'office';
    role.dispatchEvent(new Event('change'));
    expect(shown()).toBe('全区（不属于某个街道）');
    role.value = 'grid';
    role.dispatchEvent(new Event('change'));
    expect(shown()).toBe('明楼街道');
    const fill = (username: string): void => {
      f.querySelector<HTMLInputElement>('input[name=username]')!.value = username;
      f.querySelector<HTMLInputElement>('input[name=name]')!.value = '周';
      f.querySelector<HTMLInputElement>('input[name=password]')!.value = 'zhou-password';
    };
    fill('zhou');
    f.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toMatchObject({ role: 'grid', username: 'zhou', subdistrict: 'minglou' });
    // The next account starts afresh; one the office files under the whole district stays so.
    await vi.waitFor(() => expect(f.querySelector('.form-status.ok')).not.toBeNull());
    expect([role.value, shown()]).toEqual(['grid', '明楼街道']);
    sub.value = '';
    sub.dispatchEvent(new Event('change'));
    fill('zhao');
    f.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    expect(sent[1]).toEqual({ role: 'grid', username: 'zhao', name: '周', password: 'zhou-password' });
  });
});

describe('the codes the import gave', () => {
  const job: ImportJob = {
    job: 'j1',
    status: 'done',
    dry_run: true,
    total: 2,
    done: 2,
    created: 1,
    unchanged: 1,
    assigned: [
      { line: 3, code: 'S0121', name: '好又多超市', registered: false },
      { line: 2, code: 'S0007', name: '老王面馆', registered: true },
    ],
  };

  it('lists them by line, says which were registered already, and offers them as a list to print by', () => {
    const el = importReport(job);
    const rows = [...el.querySelectorAll('[data-table="import-assigned"] tbody tr')].map((tr) =>
      [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''));
    expect(rows.map((r) => r.slice(0, 3))).toEqual([['2', 'S0007', '老王面馆'], ['3', 'S0121', '好又多超市']]);
    expect(rows[0]?.[3]).toContain('沿用原编号');
    expect(el.textContent).toContain('这是试导入');
    expect(el.querySelector('[data-action="assigned-codes"]')?.getAttribute('download')).toBe('自动编号清单.csv');
    expect(assignedCsv(job.assigned ?? []).split('\r\n')[1]).toBe('"3","S0121","好又多超市"');
  });

  it('says on the template that the code may be left empty', () => {
    expect(TEMPLATE_HEADINGS[0]).toContain('可留空');
  });
});

describe('the log of sign-ins and actions', () => {
  it('says who did it and the server fixed words in Chinese', () => {
    expect(detailOf('by admin')).toBe('操作人 admin');
    expect(detailOf('by office:wang: 200 row(s)')).toBe('操作人 wang：200 行');
    expect(detailOf('by office:wang: 新桥面馆, grid xq1')).toBe('操作人 wang：新桥面馆，网格 xq1');
    expect(detailOf('by office:wang: grid g1 to g2')).toBe('操作人 wang：网格 g1 → g2');
    expect(detailOf('by office:wang: 新桥一网格, xinqiao, workers: -')).toBe('操作人 wang：新桥一网格，社区 xinqiao，网格员：无');
    expect(detailOf('by office:wang: name: 新名; address: 新路1号')).toBe('操作人 wang：名称：新名；地址：新路1号');
    expect(detailOf('by office:wang: 消防与燃气安全, version 3')).toBe('操作人 wang：消防与燃气安全，第 3 版');
    expect(detailOf('Wrong username or password. (a known device)')).toBe('用户名或密码错误（常用设备）');
    expect(detailOf('activation code issued')).toBe('发放了激活码');
    expect(detailOf('by office:wang: 幸福社区, xingfu')).toBe('操作人 wang：幸福社区, xingfu');
  });
});

describe('an import in the log', () => {
  const entry = (told?: AuditEntry['import']): AuditEntry => ({
    _id: 'accounts:audit:01J0', event: 'import_started', account: 'import:01JIMPORTJOB', detail: 'by office:wang: 4 row(s)', import: told,
  });
  const done = { job: '01JIMPORTJOB', file: '幸福街道普查.xlsx', status: 'done', total: 4, created: 3, updated: 0, refused: 1 };

  it('is named by its file, the job id kept on hover', () => {
    const cell = subjectOf(entry(done)) as HTMLElement;
    expect(cell.textContent).toBe('文件 幸福街道普查.xlsx');
    expect(cell.getAttribute('title')).toBe('导入任务 01JIMPORTJOB');
    expect(cell.dataset.importJob).toBe('01JIMPORTJOB');
    // An import of an earlier release (no file's name kept) is named by its job, as before.
    expect(subjectOf(entry({ job: '01JIMPORTJOB' }))).toBe('导入 01JIMPORTJOB');
    expect(subjectOf(entry())).toBe('导入 01JIMPORTJOB');
  });

  it('says what it did after the rows it read, while the server still tells it', () => {
    expect(entryDetail(entry(done))).toBe('操作人 wang：4 行；新登记 3，更新 0，拒绝 1');
    expect(entryDetail(entry({ ...done, status: 'running' }))).toBe('操作人 wang：4 行；导入中');
    expect(entryDetail(entry({ ...done, status: 'failed', created: 2 }))).toBe('操作人 wang：4 行；导入中断；新登记 2，更新 0，拒绝 1');
    expect(entryDetail(entry({ job: '01JIMPORTJOB', file: '幸福街道普查.xlsx' }))).toBe('操作人 wang：4 行'); // its report is gone
  });
});
