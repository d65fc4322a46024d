// @vitest-environment happy-dom
// The import's report on the registry screen: warnings about the file (columns it ignored) are shown with the rows.
import { describe, expect, it } from 'vitest';
import { importReport, type ImportJob } from '../src/office/registry';

describe('import report', () => {
  it('shows the warnings about the spreadsheet beside the refused rows', () => {
    const el = importReport({
      job: 'j1',
      status: 'done',
      total: 2,
      done: 2,
      created: 1,
      errors: [{ line: 3, field: 'grid', reason: 'unknown grid 第九网格' }],
      warnings: ['columns ignored (not one of 店铺编号、店铺名称): 负责人'],
    } satisfies ImportJob);
    const warnings = el.querySelector('[data-import-warnings]');
    expect(warnings?.textContent).toContain('负责人');
    expect(el.querySelector('[data-table="import-errors"]')?.textContent).toContain('第九网格');
  });

  it('counts the shops a corrected survey imported again holds unchanged', () => {
    // The same file again read "新增 0，更新 0，出错 4": where its 37 shops went, it did not say.
    const el = importReport({ job: 'j3', status: 'done', dry_run: true, total: 41, done: 41, created: 0, unchanged: 37 } satisfies ImportJob);
    expect(el.textContent).toContain('新增 0，更新 0，出错 0；另有 37 家已登记、没有变化');
  });

  it('shows no warning block when the file had none', () => {
    const el = importReport({ job: 'j2', status: 'done', total: 1, done: 1, created: 1 } satisfies ImportJob);
    expect(el.querySelector('[data-import-warnings]')).toBeNull();
  });

  it('says which communities and grids the import created, or a dry run would create', () => {
    // "社区: 不存在社区" under the counts read like a heading: nothing said it was made.
    const job = {
      job: 'j4',
      status: 'done',
      total: 8,
      done: 8,
      created: 4,
      communities_created: ['幸福社区'],
      grids_created: ['划船社区/划船社区第九网格', '幸福社区/第一网格'],
    } satisfies ImportJob;
    const done = importReport(job);
    expect(done.querySelector('[data-import-created=communities]')!.textContent).toBe('新建的社区：幸福社区');
    expect(done.querySelector('[data-import-created=grids]')!.textContent).toBe(
      '新建的网格：划船社区第九网格（划船社区）、第一网格（幸福社区）（请在下方“网格”中为其指定网格员）',
    );
    const dry = importReport({ ...job, dry_run: true });
    expect(dry.querySelector('[data-import-created=communities]')!.textContent).toBe('正式导入将新建社区：幸福社区');
    expect(dry.querySelector('[data-import-created=grids]')!.textContent).toBe(
      '正式导入将新建网格：划船社区第九网格（划船社区）、第一网格（幸福社区）',
    );
  });
});
