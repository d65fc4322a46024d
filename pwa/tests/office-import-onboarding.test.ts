// @vitest-environment happy-dom
// The survey import as a clerk setting up a sub-district meets it: a template to fill in, a dry run that says
// nothing was written, each refused row once, its column named as the survey names it.
import { describe, expect, it } from 'vitest';
import { importReport, importTemplate, TEMPLATE_HEADINGS, type ImportJob } from '../src/office/registry';

const DUPLICATE = { line: 3, field: 'code', reason: '店铺编号 XQ101 与第 2 行重复。duplicate: shop XQ101 is already on line 2' };

function rows(el: HTMLElement): string[][] {
  return [...el.querySelectorAll('[data-table="import-errors"] tbody tr')].map((tr) =>
    [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''));
}

describe('the import report of a new sub-district', () => {
  it('lists a duplicate row once and counts it once', () => {
    const el = importReport({
      job: 'j1',
      status: 'done',
      total: 3,
      done: 3,
      created: 1,
      refused: 2,
      errors: [DUPLICATE, { line: 4, field: 'category', reason: '不认识的类别“奶粉店”' }],
      duplicates: [{ line: 3, code: 'XQ101', first_line: 2 }],
    } satisfies ImportJob);
    expect(rows(el).map(([line]) => line)).toEqual(['3', '4']);
    expect(el.querySelector('p.ok')?.textContent).toContain('出错 2');
  });

  it('names the columns as the survey does, not by their codes', () => {
    const el = importReport({
      job: 'j2',
      status: 'done',
      total: 3,
      done: 3,
      errors: [
        DUPLICATE,
        { line: 4, field: 'name', reason: '' },
        { line: 5, field: 'grid', reason: '' },
        { line: 6, field: 'community', reason: '' },
      ],
    } satisfies ImportJob);
    expect(rows(el).map(([, field]) => field)).toEqual(['店铺编号', '店铺名称', '网格', '社区']);
  });

  it('says a dry run wrote nothing', () => {
    const el = importReport({ job: 'j3', status: 'done', dry_run: true, total: 5, done: 5, created: 5 } satisfies ImportJob);
    expect(el.dataset.dryRun).toBe('true');
    const said = el.querySelector('p.ok')?.textContent ?? '';
    expect(said.startsWith('试导入')).toBe(true); // not "导入完成" (import done), as it used to say
    expect(said).toContain('没有写入');
  });
});

describe('the import template', () => {
  it('is a heading row Excel opens as UTF-8, with nothing to import by mistake', () => {
    const text = importTemplate();
    expect(text.startsWith('\ufeff')).toBe(true);
    const lines = text.slice(1).split('\r\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    // The import reads a heading with its note in brackets taken off (server/importer.py `_header`).
    const bare = TEMPLATE_HEADINGS.map((cell) => cell.replace(/（[^（）]*）$/, ''));
    expect(bare).toEqual(['店铺编号', '店铺名称', '地址', '类别', '社区', '网格', '负责人', '联系电话']);
    expect(lines[0]).toBe(TEMPLATE_HEADINGS.map((c) => `"${c}"`).join(','));
  });
});
