// @vitest-environment happy-dom
// A red or black list left short by a tie at its cut says why: in a new sub-district every shop has the same points,
// and 红榜 with nobody on it read as a fault (a clerk's first month).
import { describe, expect, it } from 'vitest';
import { rankCounts } from '../src/office/ranking';
import { setLang } from '../src/i18n';

const answer = (red: number, black: number, of = 30) => ({ of, counts: { red, black, none: of - red - black, working_group: 0 } });

describe('the ranking counts line', () => {
  it('says that tied shops are left off when a list is empty or the two differ', () => {
    setLang('zh-CN');
    for (const [red, black] of [[0, 0], [0, 10], [10, 7]]) {
      const line = rankCounts(answer(red!, black!) as never);
      expect(line.querySelector('[data-ties-left-off]')?.textContent).toContain('并列的店铺都不上榜');
    }
    setLang('en');
    expect(rankCounts(answer(0, 0) as never).textContent).toContain('never split by a list');
    setLang('zh-CN');
  });

  it('says nothing of ties when both lists are full, or fewer than two shops are ranked', () => {
    expect(rankCounts(answer(10, 10) as never).querySelector('[data-ties-left-off]')).toBeNull();
    expect(rankCounts(answer(0, 0, 0) as never).querySelector('[data-ties-left-off]')).toBeNull();
    expect(rankCounts(answer(0, 0, 1) as never).querySelector('[data-ties-left-off]')).toBeNull(); // lists of size 0
  });
});
