import { afterEach, describe, expect, it } from 'vitest';
import { exportTarget, reportPath } from '../src/office/exports';
import { officeEn, officeZh } from '../src/office/i18n';
import { rankingCalls } from '../src/office/ranking';
import {
  chosenOf,
  heldSubdistrict,
  isScoped,
  listChoices,
  newUserBody,
  ownSubdistrict,
  reachLine,
  reachOf,
  subdistrictChoices,
  subdistrictName,
} from '../src/office/reach';
import { setLang } from '../src/i18n';
import { signIn } from '../src/session';

const KNOWN = [
  { code: 'minglou', name: '明楼街道' },
  { code: 'dongliu', name: null },
];

afterEach(() => setLang('zh-CN'));

describe("an office account's reach", () => {
  it('is its sub-district when the sign-in answer names one, else the whole district', () => {
    expect(reachOf({ subdistrict: 'minglou' })).toBe('minglou');
    expect(reachOf({})).toBeNull();
    expect(reachOf({ subdistrict: null })).toBeNull();
    expect(reachOf({ subdistrict: '  ' })).toBeNull();
    expect(reachOf(null)).toBeNull();
  });

  it("follows the signed-in office's account", () => {
    signIn({ token: 't1', user: { id: 'office:sun', role: 'office', name: '孙', subdistrict: 'minglou' } });
    expect([ownSubdistrict(), isScoped()]).toEqual(['minglou', true]);
    signIn({ token: 't2', user: { id: 'office:wang', role: 'office', name: '王' } });
    expect([ownSubdistrict(), isScoped()]).toEqual([null, false]);
  });

  it('is named in the layout by the registry name, else the code; the district office as the whole district', () => {
    expect(subdistrictName('minglou', KNOWN)).toBe('明楼街道');
    expect(subdistrictName('dongliu', KNOWN)).toBe('dongliu');
    expect(subdistrictName('xiqiao', KNOWN)).toBe('xiqiao');
    expect(reachLine('minglou', KNOWN)).toBe('本街道：明楼街道');
    expect(reachLine('minglou', [])).toBe('本街道：minglou');
    expect(reachLine(null, KNOWN)).toBe('全区');
    setLang('en');
    expect(reachLine('minglou', KNOWN)).toBe('Sub-district: 明楼街道');
    expect(reachLine(null, KNOWN)).toBe('Whole district');
  });

  it('never lets a sub-district office name another sub-district', () => {
    expect(heldSubdistrict('dongliu', 'minglou')).toBe('minglou');
    expect(heldSubdistrict('', 'minglou')).toBe('minglou');
    expect(heldSubdistrict('dongliu', null)).toBe('dongliu');
    expect(heldSubdistrict('', null)).toBeNull();
    expect(heldSubdistrict(undefined, null)).toBeNull();
  });
});

describe('a new staff account', () => {
  const fields = { role: 'office', username: 'li', name: '李', password: 'li-password', subdistrict: 'dongliu' };

  it("is filed under the sub-district the district office chose, or none (the district's)", () => {
    expect(newUserBody(fields, null)).toEqual({ ...fields });
    const { subdistrict: _, ...district } = fields;
    expect(newUserBody({ ...fields, subdistrict: '' }, null)).toEqual(district);
    expect(newUserBody(district, null)).toEqual(district);
  });

  it('from a sub-district office names no sub-district, whatever the form held (the server files it as its own)', () => {
    const body = newUserBody(fields, 'minglou');
    expect(body).toEqual({ role: 'office', username: 'li', name: '李', password: 'li-password' });
    expect('subdistrict' in body).toBe(false);
  });

  it("offers the district office a choice of sub-district, none first; a sub-district's office none", () => {
    expect(subdistrictChoices(KNOWN, null)).toEqual([
      ['', '全区（不属于某个街道）'],
      ['minglou', '明楼街道'],
      ['dongliu', 'dongliu'],
    ]);
    expect(subdistrictChoices(KNOWN, 'minglou')).toBeNull();
  });
});

describe('the sub-district of the red/black list, the monthly report and the rankings export', () => {
  it('is chosen by the district office among several, by name else code; not offered with one or to a sub-district office', () => {
    expect(listChoices(KNOWN, null)).toEqual([
      ['minglou', '明楼街道'],
      ['dongliu', 'dongliu'],
    ]);
    expect(listChoices(KNOWN.slice(0, 1), null)).toEqual([]);
    expect(listChoices([], null)).toEqual([]);
    expect(listChoices(KNOWN, 'minglou')).toEqual([]);
    // A sub-district named before its first community is not offered: it has nothing to rank.
    const empty = [{ code: 'minglou', name: '明楼街道', communities: 3 }, { code: 'dongliu', name: '东柳街道', communities: 0 }];
    expect(listChoices(empty, null)).toEqual([]);
    expect(listChoices([...empty, { code: 'xihu', name: null, communities: 1 }], null)).toEqual([
      ['minglou', '明楼街道'],
      ['xihu', 'xihu'],
    ]);
  });

  it('is the one asked for when offered, else the first; none without a choice', () => {
    const choices = listChoices(KNOWN, null);
    expect(chosenOf('dongliu', choices)).toBe('dongliu');
    expect(chosenOf(null, choices)).toBe('minglou');
    expect(chosenOf('', choices)).toBe('minglou');
    expect(chosenOf('xiqiao', choices)).toBe('minglou');
    expect(chosenOf('dongliu', [])).toBeNull();
    expect(chosenOf(null, [])).toBeNull();
  });

  it('is named in every call of the ranking screen, and kept in its path when the month changes', () => {
    const calls = rankingCalls('dongliu');
    expect(calls.months).toBe('/api/office/rankings?subdistrict=dongliu');
    expect(calls.month('2026-11')).toBe('/api/office/ranking?month=2026-11&subdistrict=dongliu&limit=50');
    expect(calls.month('')).toBe('/api/office/ranking?subdistrict=dongliu&limit=50');
    // A page of the shops a filter keeps, the sub-district named still.
    expect(calls.month('2026-11', { list: 'black', q: '面馆' }, 100)).toBe(
      '/api/office/ranking?month=2026-11&subdistrict=dongliu&list=black&q=%E9%9D%A2%E9%A6%86&limit=50&offset=100',
    );
    expect(calls.month('2026-11', { working_group: true })).toBe(
      '/api/office/ranking?month=2026-11&subdistrict=dongliu&working_group=1&limit=50',
    );
    expect(calls.publish('2026-11')).toBe('/api/office/rankings/2026-11/publish?subdistrict=dongliu');
    expect(calls.path('2026-10')).toBe('/office/ranking?month=2026-10&subdistrict=dongliu');
    expect(calls.path('')).toBe('/office/ranking?subdistrict=dongliu');
  });

  it('is not named without a choice (as before: the server takes the only one, or the office its own)', () => {
    const calls = rankingCalls(null);
    expect(calls.months).toBe('/api/office/rankings');
    expect(calls.month('2026-11')).toBe('/api/office/ranking?month=2026-11&limit=50');
    expect(calls.publish('2026-11')).toBe('/api/office/rankings/2026-11/publish');
    expect(calls.path('2026-11')).toBe('/office/ranking?month=2026-11');
    expect(exportTarget('rankings', 'csv', '', '', '2026-10')).toEqual([
      '/api/office/exports/rankings.csv?month=2026-10',
      'rankings-2026-10.csv',
    ]);
    expect(reportPath('2026-10')).toBe('/api/office/reports/2026-10.html');
    expect(reportPath('2026-10', null)).toBe('/api/office/reports/2026-10.html');
  });

  it('is named by the rankings export and the report, and in the export file name; not by the other exports', () => {
    expect(exportTarget('rankings', 'xlsx', '', '', '2026-10', 'dongliu')).toEqual([
      '/api/office/exports/rankings.xlsx?month=2026-10&subdistrict=dongliu',
      'rankings-dongliu-2026-10.xlsx',
    ]);
    expect(exportTarget('rankings', 'csv', '', '', '', 'dongliu')).toEqual([
      '/api/office/exports/rankings.csv?subdistrict=dongliu',
      'rankings-dongliu.csv',
    ]);
    expect(exportTarget('checks', 'csv', '2026-11-01', '', '', 'dongliu')).toEqual([
      '/api/office/exports/checks.csv?from=2026-11-01',
      'checks-2026-11-01_….csv',
    ]);
    expect(exportTarget('shops', 'csv', '', '', '2026-10', 'dongliu')[0]).toBe('/api/office/exports/shops.csv');
    expect(reportPath('2026-10', 'dongliu')).toBe('/api/office/reports/2026-10.html?subdistrict=dongliu');
  });
});

describe('the reach wording', () => {
  it('is in both languages', () => {
    const keys = [
      'reach.district',
      'reach.subdistrict',
      'reach.choose',
      'ranking.publishConfirmIn',
      'rules.districtOnly',
      'registry.userSubdistrict',
    ] as const;
    for (const key of keys) {
      expect(officeZh[key]).toMatch(/[\u4e00-\u9fff]/);
      expect(officeEn[key]).toMatch(/^[\x20-\x7e]+$/);
    }
  });
});
