// @vitest-environment happy-dom
// The grid worker's scanner opens the e-file of a scanned or typed code; a code typed on a phone keyboard comes
// in lower case (s0001) or with a blank, and still opens the shop the registry spells S0001.
import { beforeEach, describe, expect, it, vi } from 'vitest';

const held = new Set<string>();
const went: string[] = [];

vi.mock('../src/grid/data', () => ({ loadShop: async (code: string) => (held.has(code) ? { code } : null) }));
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
