import { afterEach, describe, expect, it } from 'vitest';
import { officeEn, officeZh } from '../src/office/i18n';
import {
  heldSubdistrict,
  isScoped,
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

describe('the reach wording', () => {
  it('is in both languages', () => {
    for (const key of ['reach.district', 'reach.subdistrict', 'rules.districtOnly', 'registry.userSubdistrict'] as const) {
      expect(officeZh[key]).toMatch(/[\u4e00-\u9fff]/);
      expect(officeEn[key]).toMatch(/^[\x20-\x7e]+$/);
    }
  });
});
