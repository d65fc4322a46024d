import { describe, expect, it } from 'vitest';
import { shownAt } from '../src/sync-panel';

describe("the sync panel's times", () => {
  it('are written as the app writes dates everywhere, in Shanghai time', () => {
    expect(shownAt('2026-11-30T02:00:36.120Z')).toBe('2026-11-30 10:00');
    expect(shownAt('2026-11-30T23:59:00+08:00')).toBe('2026-11-30 23:59');
    expect(shownAt(null)).toBe('从未');
  });
});
