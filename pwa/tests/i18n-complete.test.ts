// Each of the three dictionaries (owner/public, grid worker, office) is complete in English. A missing key is already
// a `tsc` error (the English ones are typed against the Chinese), so this checks what the compiler cannot: no English
// text left empty or in Chinese, the same placeholders on both sides, and the plural forms.
import { describe, expect, it } from 'vitest';
import { gridEn, gridZh } from '../src/grid/i18n';
import { fill, ownerEn, ownerZh } from '../src/i18n';
import { officeEn, officeZh } from '../src/office/i18n';

const CJK = /[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]/;
// The language button names the other language in its own script.
const CHINESE_ON_PURPOSE = new Set(['lang.switch']);
// Said only of two or more: a code typed that matches several shops.
const MANY_ON_PURPOSE = new Set(['scan.several']);

const dictionaries: [string, Record<string, string>, Record<string, string>][] = [
  ['owner/public', ownerZh, ownerEn],
  ['grid', gridZh, gridEn],
  ['office', officeZh, officeEn],
];

/** The parameter names a text uses, in `{n}` and in the plural form `{n|one|other}`. */
function params(text: string): string[] {
  return [...new Set([...text.matchAll(/\{(\w+)(?:\|[^|{}]*\|[^|{}]*)?\}/g)].map((m) => m[1]!))].sort();
}

describe.each(dictionaries)('the %s dictionary', (_name, zh, en) => {
  it('has an English entry for every Chinese key, and no other', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
  });

  it('has no empty English text', () => {
    expect(Object.entries(en).filter(([, text]) => text.trim() === '').map(([key]) => key)).toEqual([]);
  });

  it('has no Chinese characters or full-width punctuation in English', () => {
    const chinese = Object.entries(en).filter(([key, text]) => !CHINESE_ON_PURPOSE.has(key) && CJK.test(text));
    expect(chinese.map(([key, text]) => `${key}: ${text}`)).toEqual([]);
  });

  it('uses the same placeholders in both languages', () => {
    const differ = Object.keys(zh).filter((key) => params(zh[key]!).join() !== params(en[key] ?? '').join());
    expect(differ.map((key) => `${key}: ${zh[key]} / ${en[key]}`)).toEqual([]);
  });

  it('writes counted English words in the plural form, not as "(s)"', () => {
    expect(Object.entries(en).filter(([, text]) => /\w\((s|es)\)/.test(text)).map(([key]) => key)).toEqual([]);
  });

  it('counts nouns with the plural form, not always in the plural ("1 points")', () => {
    const counted = /\{(\w+)\} (points|photos|days|documents|shops|hazards|items|records|alarms|weeks|users|devices)\b/;
    const always = Object.entries(en).filter(([key, text]) => !MANY_ON_PURPOSE.has(key) && counted.test(text));
    expect(always.map(([key, text]) => `${key}: ${text}`)).toEqual([]);
  });
});

describe('plural forms', () => {
  it('picks the word for one when the count is 1, else the other', () => {
    const text = '{n} {n|hazard|hazards} fixed';
    expect(fill(text, { n: 1 })).toBe('1 hazard fixed');
    expect(fill(text, { n: 0 })).toBe('0 hazards fixed');
    expect(fill(text, { n: 2 })).toBe('2 hazards fixed');
    expect(fill(gridEn['efile.closedHazards'], { n: 1 })).toBe('1 hazard fixed');
    expect(fill(officeEn['efile.items'], { n: 1 })).toBe('1 item checked');
    expect(fill(gridEn['list.points'], { n: 1 })).toBe('1 point');
    expect(fill(gridEn['list.points'], { n: -3 })).toBe('-3 points');
  });

  it('leaves a form whose count is not given as it is', () => {
    expect(fill('{n|a|b}', { m: 1 })).toBe('{n|a|b}');
  });
});
