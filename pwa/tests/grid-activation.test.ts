// @vitest-environment happy-dom
// The activation code's expiry as the grid worker reads it out to the owner: a month in words, Shanghai time.
import { describe, expect, it } from 'vitest';
import { expiresText } from '../src/grid/activation';

describe('activation code expiry', () => {
  it('reads 12月7日 07:27, not 12/7 (taken for 12 July)', () => {
    const at = new Date(Date.UTC(new Date().getFullYear(), 11, 6, 23, 27)).toISOString(); // 7 Dec 07:27 in Shanghai
    expect(expiresText(at)).toBe('12月7日 07:27');
  });
});
