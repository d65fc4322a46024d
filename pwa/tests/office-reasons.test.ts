// The server says why in Chinese, then in English: the office in English reads the English part, not the Chinese.
import { describe, expect, it } from 'vitest';
import { reasonIn } from '../src/i18n';

describe('a server reason in the office language', () => {
  it('is the English part in English', () => {
    expect(reasonIn('用户名 office 已被占用，请换一个。username: office is taken', 'en')).toBe('username: office is taken');
    expect(reasonIn('没有编号为 S9999 的店铺。No shop S9999.', 'en')).toBe('No shop S9999.');
    expect(reasonIn('本店已停业，账号已停用。This shop is closed; its account is disabled.', 'en')).toBe(
      'This shop is closed; its account is disabled.',
    );
  });

  it('keeps the field it names in front', () => {
    expect(reasonIn('grid: 没有网格“nogrid”：请填写网格编号或名称。no grid nogrid', 'en')).toBe('grid: no grid nogrid');
  });

  it('keeps the data the English part quotes, even in Chinese', () => {
    expect(reasonIn('grid: 有 2 个网格名为“第一网格”：请填写网格编号。第一网格 names several grids', 'en')).toBe(
      'grid: 第一网格 names several grids',
    );
    const typo = '社区“明北社区”里没有“二网格”这个网格：请检查是否写错；要新建，请勾选“自动新建表中未登记的社区和网格”。';
    expect(reasonIn(`${typo}unknown grid 二网格 in community 明北社区`, 'en')).toBe('unknown grid 二网格 in community 明北社区');
  });

  it('is all of it when it has no English part, and in Chinese', () => {
    const chineseOnly = '表头缺少必填的列：地址。表头须有 店铺名称、地址、网格，现在读到的是：名称、CSV。可下载导入模板对照。';
    expect(reasonIn(chineseOnly, 'en')).toBe(chineseOnly);
    expect(reasonIn('网格 G1 属于社区 C1，不属于“明北”。', 'en')).toBe('网格 G1 属于社区 C1，不属于“明北”。');
    expect(reasonIn('hazards: one of open, overdue', 'en')).toBe('hazards: one of open, overdue');
    const both = '用户名 office 已被占用，请换一个。username: office is taken';
    expect(reasonIn(both, 'zh-CN')).toBe(both);
  });
});
