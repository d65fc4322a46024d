// @vitest-environment happy-dom
// The activation code's expiry as the grid worker reads it out to the owner: a month in words, Shanghai time.
import { describe, expect, it } from 'vitest';
import { expiresText, failure } from '../src/grid/activation';
import { ApiError } from '../src/session';

describe('activation code expiry', () => {
  it('reads 12月7日 07:27, not 12/7 (taken for 12 July)', () => {
    const at = new Date(Date.UTC(new Date().getFullYear(), 11, 6, 23, 27)).toISOString(); // 7 Dec 07:27 in Shanghai
    expect(expiresText(at)).toBe('12月7日 07:27');
  });
});

describe("the server's refusal, in the worker's words", () => {
  it('names the cause in Chinese, never the English reason meant for the logs', () => {
    const closed = failure(new ApiError(409, 'conflict', 'This shop is closed: reopen it before handing out an activation code.'));
    expect(closed).toContain('已关停');
    expect(failure(new ApiError(404, 'not_found', '没有编号为 S0001 的店铺。No shop S0001.'))).toContain('不在你的网格内');
    expect(failure(new ApiError(503, 'unavailable', 'Service Unavailable'))).not.toContain('Service');
    for (const text of [closed, failure(new ApiError(404, 'not_found', 'No shop'))]) expect(text).not.toMatch(/[A-Za-z]{4}/);
  });

  it("says any other reason written Chinese first in the Chinese part (server/errors.py's convention)", () => {
    const other = failure(new ApiError(400, 'bad_request', 'shop: 不能为空。a non-empty string is required'));
    expect(other).toContain('不能为空。');
    expect(other).not.toContain('non-empty');
  });
});
