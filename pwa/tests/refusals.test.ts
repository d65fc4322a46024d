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
    // As server/sync/validate.py words them: Chinese first, English after the last 。
    const clock = '记录时间比服务器快 10 分钟以上，请把手机时间设为自动。'
      + "performed_at is more than 10 minutes ahead of the server clock; check the phone's clock";
    expect(refusedWhy(clock)).toContain('手机时间');
    expect(refusedWhy('店铺 S0003 不在此账号的范围内。shop S0003 is not in this account\'s scope')).toContain('不在你的范围内');
    expect(refusedWhy('_attachments: 照片不是 JPEG、PNG 或 WebP 图片。photo.jpg is not a JPEG, PNG or WebP image'))
      .toContain('请重新拍照');
    expect(refusedWhy('something new')).toBe('服务器拒收：something new');
  });

  it("says the part of the server's reason in the screen's language when it has no words of its own", () => {
    const deadline = 'findings: 整改期限不能超过 366 天。the deadline of f1 is more than 366 days away';
    setLang('zh-CN');
    expect(refusedWhy(deadline)).toBe('服务器拒收：findings: 整改期限不能超过 366 天。');
    setLang('en');
    expect(refusedWhy(deadline)).toBe('Refused by the server: findings: the deadline of f1 is more than 366 days away');
  });
});
