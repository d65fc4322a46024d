// @vitest-environment happy-dom
// The grid worker's list drops the shops the office moved to another grid (src/grid/scope.ts): the server's
// `_all_docs` answers a shop outside the worker's scope as missing, and the answer is kept for offline use.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  KEYS_PER_ASK,
  SCOPE_CHECK_MS,
  checkScope,
  outOfScope,
  outsideOf,
  scopeCheckDue,
  shopDocId,
  withoutOutside,
} from '../src/grid/scope';

/** The gateway's answer for a worker whose scope is `mine`: rows in the order of the keys. */
function gateway(mine: string[], asked: string[][] = []): (keys: string[]) => Promise<unknown> {
  return async (keys) => {
    asked.push(keys);
    return keys.map((key) =>
      mine.includes(key.split(':')[0] ?? '')
        ? { id: key, key, value: { rev: '1-a' } }
        : { key, error: 'not_found' },
    );
  };
}

beforeEach(() => localStorage.clear());

describe('the shops still in scope', () => {
  it('drops a shop the server answers as missing and keeps the rest', async () => {
    const outside = await checkScope('grid:zhou', ['S0001', 'S0002'], gateway(['S0002']), 1000);
    expect([...outside]).toEqual(['S0001']);
    const files = new Map([
      ['S0001', 'moved away'],
      ['S0002', 'still mine'],
    ]);
    expect([...withoutOutside(files, outOfScope('grid:zhou')).keys()]).toEqual(['S0002']);
  });

  it('remembers the answer offline, for this user only', async () => {
    await checkScope('grid:zhou', ['S0001', 'S0002'], gateway(['S0002']), 1000);
    expect([...outOfScope('grid:zhou')]).toEqual(['S0001']);
    expect(outOfScope('grid:li').size).toBe(0);
  });

  it('lists a shop again once it is moved back', async () => {
    await checkScope('grid:zhou', ['S0001'], gateway([]), 1000);
    expect(outOfScope('grid:zhou').has('S0001')).toBe(true);
    await checkScope('grid:zhou', ['S0001'], gateway(['S0001']), 2000);
    expect(outOfScope('grid:zhou').size).toBe(0);
  });

  it('keeps the last answer when the server cannot be asked', async () => {
    await checkScope('grid:zhou', ['S0001'], gateway([]), 1000);
    const offline = (): Promise<unknown> => Promise.reject(new TypeError('Failed to fetch'));
    await expect(checkScope('grid:zhou', ['S0001'], offline, 2000)).rejects.toThrow();
    await expect(checkScope('grid:zhou', ['S0001'], async () => ({ error: 'x' }), 2000)).rejects.toThrow();
    expect(outOfScope('grid:zhou').has('S0001')).toBe(true);
  });

  it('takes no missing row as an answer', () => {
    expect(outsideOf(['S0001', 'S0002'], [{ key: shopDocId('S0002'), error: 'not_found' }])).toEqual(['S0002']);
    const deleted = [{ key: shopDocId('S0001'), id: shopDocId('S0001'), value: { rev: '2-b', deleted: true } }];
    expect(outsideOf(['S0001'], deleted)).toEqual(['S0001']);
  });

  it('asks in batches the gateway takes', async () => {
    const codes = Array.from({ length: KEYS_PER_ASK + 5 }, (_, i) => `S${String(i).padStart(5, '0')}`);
    const asked: string[][] = [];
    const outside = await checkScope('grid:zhou', codes, gateway(codes.slice(1), asked), 1000);
    expect(asked.map((keys) => keys.length)).toEqual([KEYS_PER_ASK, 5]);
    expect([...outside]).toEqual([codes[0]]);
  });

  it('asks again after a while, or about a shop it never asked about', async () => {
    expect(scopeCheckDue('grid:zhou', ['S0001'], 1000)).toBe(true);
    await checkScope('grid:zhou', ['S0001'], gateway(['S0001']), 1000);
    expect(scopeCheckDue('grid:zhou', ['S0001'], 1000 + SCOPE_CHECK_MS - 1)).toBe(false);
    expect(scopeCheckDue('grid:zhou', ['S0001', 'S0009'], 2000)).toBe(true);
    expect(scopeCheckDue('grid:zhou', ['S0001'], 1000 + SCOPE_CHECK_MS)).toBe(true);
    expect(scopeCheckDue('grid:li', ['S0001'], 2000)).toBe(true);
  });
});
