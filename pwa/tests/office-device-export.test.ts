// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { officeEn, officeZh } from '../src/office/i18n';
import {
  exportCounts,
  exportProblem,
  exportRows,
  MAX_EXPORT_DOCS,
  readExport,
  type ExportItem,
} from '../src/office/syncmon';
import { form, submit } from '../src/office/ui';

const file = (docs: unknown[], refused: unknown[] = []): Record<string, unknown> => ({
  exported_at: '2026-11-29T10:00:00.000Z',
  device: 'd-zhou',
  docs,
  refused,
});

describe("a phone's exported file, before it is sent", () => {
  it('is read as the object the phone wrote', () => {
    const body = file([{ _id: 'S0001:patrol:x', _rev: '1-a' }], [{ id: 'S0002:patrol:y', reason: 'r', doc: {} }]);
    expect(readExport(JSON.stringify(body, null, 1))).toEqual(body);
    expect(exportProblem(file([], [{ id: 'S0002:patrol:y' }]))).toBeNull(); // only documents refused before
    expect(exportProblem({ docs: [{}] })).toBeNull(); // no refused list: none
  });

  it('is not sent when it is not JSON, saying why', () => {
    expect(() => readExport('{"docs": [')).toThrow(/^文件不是有效的 JSON（.+）$/);
    expect(() => readExport('')).toThrow(/JSON/);
  });

  it('is not sent when it is not what the server takes, as the server would say', () => {
    expect(exportProblem([])).toBe(officeZh['sync.importNotObject']);
    expect(exportProblem(null)).toBe(officeZh['sync.importNotObject']);
    expect(exportProblem('docs')).toBe(officeZh['sync.importNotObject']);
    expect(exportProblem({ refused: [] })).toBe(officeZh['sync.importNoDocs']);
    expect(exportProblem({ docs: {} })).toBe(officeZh['sync.importNoDocs']);
    expect(exportProblem({ docs: [], refused: {} })).toBe(officeZh['sync.importNoDocs']);
    expect(exportProblem(file([]))).toBe('文件中没有记录');
    const many = Array.from({ length: MAX_EXPORT_DOCS }, () => ({}));
    expect(exportProblem(file(many))).toBeNull();
    expect(exportProblem(file(many, [{}]))).toBe('文件中有 5001 条记录，一次最多导入 5000 条');
    expect(() => readExport('[]')).toThrow(officeZh['sync.importNotObject']);
  });

  it('is worded in English too', () => {
    for (const key of ['sync.import', 'sync.importNote', 'sync.importing', 'sync.importCounts'] as const) {
      expect(officeEn[key]).toBeTruthy();
      expect(officeEn[key]).not.toBe(officeZh[key]);
    }
  });
});

describe("the server's answer, as the office reads it", () => {
  const items: ExportItem[] = [
    { id: 'S0001:patrol:a', author: 'grid:zhou', from: 'waiting', outcome: 'stored' },
    { id: 'S0001:photo:b', author: 'grid:zhou', from: 'waiting', outcome: 'already' },
    { id: 'S0003:patrol:c', author: 'grid:zhou', from: 'waiting', outcome: 'refused', reason: 'S0003' },
    { id: 'S0001:patrol:d', author: 'grid:zhou', from: 'waiting', outcome: 'stored' },
    { id: null, author: null, from: 'refused', outcome: 'refused', reason: 'not a document of a shop' },
  ];

  it('lists the refused first, then the stored, then those already there, in the file order within each', () => {
    expect(exportRows(items).map((i) => i.id)).toEqual([
      'S0003:patrol:c',
      null,
      'S0001:patrol:a',
      'S0001:patrol:d',
      'S0001:photo:b',
    ]);
    expect(items.map((i) => i.id)[0]).toBe('S0001:patrol:a'); // the answer itself is left as it came
    expect(exportRows([{ id: 'x' }, { id: 'y', outcome: 'refused' }]).map((i) => i.id)).toEqual(['y', 'x']);
  });

  it("counts by the server's figures, else by its items", () => {
    expect(exportCounts({ items, counts: { stored: 2, already: 1, refused: 2 } })).toEqual({
      stored: 2,
      already: 1,
      refused: 2,
    });
    expect(exportCounts({ items })).toEqual({ stored: 2, already: 1, refused: 2 });
    expect(exportCounts({})).toEqual({ stored: 0, already: 0, refused: 0 });
  });
});

describe('a form whose call takes a while', () => {
  it('says so, with its button disabled, until the call ends', async () => {
    let finish: () => void = () => undefined;
    const call = (): Promise<string> => new Promise((resolve) => (finish = () => resolve('done')));
    const f = form({ 'data-form': 'x' }, [submit('go')], call, '正在导入…');
    document.body.append(f);
    const status = f.querySelector<HTMLElement>('.form-status')!;
    const button = f.querySelector<HTMLButtonElement>('button[type=submit]')!;
    f.dispatchEvent(new Event('submit', { cancelable: true }));
    expect([status.textContent, status.getAttribute('aria-busy')]).toEqual(['正在导入…', 'true']);
    expect(button.disabled).toBe(true);
    finish();
    await new Promise((r) => setTimeout(r, 0));
    expect([status.textContent, status.hasAttribute('aria-busy'), button.disabled]).toEqual(['done', false, false]);
    expect(status.classList.contains('ok')).toBe(true);
    f.remove();
  });
});
