// @vitest-environment happy-dom
// The grid worker's scanner opens the e-file of a scanned or typed code; a code typed on a phone keyboard comes
// in lower case (s0001) or with a blank, and still opens the shop the registry spells S0001.
import { beforeEach, describe, expect, it, vi } from 'vitest';

const held = new Set<string>();
const went: string[] = [];

const SHOPS = [
  { code: 'S0001', name: '阿香烟酒' },
  { code: 'S0032', name: '老王面馆' },
  { code: 'S0033', name: '王记烟酒' },
];
vi.mock('../src/grid/data', () => ({
  loadShop: async (code: string) => (held.has(code) ? { code } : null),
  loadShops: async () => SHOPS,
}));
vi.mock('../src/router', async (original) => ({
  ...(await original<typeof import('../src/router')>()),
  navigate: (href: string) => went.push(href),
}));

describe('a typed shop code', () => {
  beforeEach(() => {
    held.clear();
    went.length = 0;
  });

  it('opens the shop whatever its case, and says so when the phone holds no such shop', async () => {
    const { openShop } = await import('../src/grid/scanner');
    held.add('S0001');
    const said: string[] = [];
    expect(await openShop(' s0001 ', (m) => said.push(m))).toBe(true);
    expect(went).toEqual(['/grid/s/S0001']);
    expect(await openShop('s0002', (m) => said.push(m))).toBe(false);
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('s0002');
  });

  it('opens a lower-case code the registry holds as it is', async () => {
    const { openShop } = await import('../src/grid/scanner');
    held.add('ab12');
    expect(await openShop('ab12', () => undefined)).toBe(true);
    expect(went).toEqual(['/grid/s/ab12']);
  });
});

describe('a typed text that is no code of the phone', () => {
  beforeEach(() => {
    held.clear();
    went.length = 0;
  });

  it('opens the one shop it names by a part of its name or the end of its code, and is never called a QR code', async () => {
    const { openTyped } = await import('../src/grid/scanner');
    const said: string[] = [];
    const say = (m: string): number => said.push(m);
    expect(await openTyped('阿香', say)).toBe(true);
    expect(await openTyped('0032', say)).toBe(true);
    expect(went).toEqual(['/grid/s/S0001', '/grid/s/S0032']);
    expect(await openTyped('烟酒', say)).toBe(false); // two shops: both named, with their codes
    expect(said[0]).toContain('阿香烟酒（S0001）');
    expect(said[0]).toContain('王记烟酒（S0033）');
    expect(await openTyped('   ', say)).toBe(false);
    expect(said[1]).toContain('请输入店铺编号');
    expect(await openTyped('S0999', say)).toBe(false);
    expect(said[2]).toContain('不在你的网格内');
    expect(said.join('')).not.toContain('二维码');
  });
});
