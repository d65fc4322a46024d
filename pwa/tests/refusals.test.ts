// @vitest-environment happy-dom
// A refused record in the sync panel: which one (shop, what, day) and why, in the user's words.
import { afterEach, describe, expect, it } from 'vitest';
import { setLang } from '../src/i18n';
import { refusedWhat, refusedWhy } from '../src/refusals';
import { newUlid } from '../src/ulid';

const DEC_9 = Date.UTC(2026, 11, 9, 2, 0); // 10:00 in Shanghai

afterEach(() => setLang('zh-CN'));

describe('a refused record', () => {
  it('is named by its shop, its kind and its day, not by its id', () => {
    setLang('zh-CN');
    expect(refusedWhat(`S0024:patrol:${newUlid(DEC_9)}`)).toBe('S0024 · 巡查记录 · 12月9日');
    setLang('en');
    expect(refusedWhat(`S0024:self_check:${newUlid(DEC_9)}`)).toBe('S0024 · self-check · 9 December');
    expect(refusedWhat('_local/x')).toBe('_local/x');
  });

  it("says why in the user's words, and the server's own when it has none", () => {
    setLang('zh-CN');
    const clock = "performed_at is more than 10 minutes ahead of the server clock; check the phone's clock";
    expect(refusedWhy(clock)).toContain('手机时间');
    expect(refusedWhy('shop S0003 is not in this account\'s scope')).toContain('不在你的范围内');
    expect(refusedWhy('something new')).toBe('服务器拒收：something new');
  });
});
