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

  it('is all of it when it has no English part, and the Chinese part in Chinese', () => {
    const chineseOnly = '表头缺少必填的列：地址。表头须有 店铺名称、地址、网格，现在读到的是：名称、CSV。可下载导入模板对照。';
    expect(reasonIn(chineseOnly, 'en')).toBe(chineseOnly);
    expect(reasonIn('网格 G1 属于社区 C1，不属于“明北”。', 'en')).toBe('网格 G1 属于社区 C1，不属于“明北”。');
    expect(reasonIn('hazards: one of open, overdue', 'en')).toBe('hazards: one of open, overdue');
    const both = '用户名 office 已被占用，请换一个。username: office is taken';
    expect(reasonIn(both, 'zh-CN')).toBe('用户名 office 已被占用，请换一个。'); // a clerk reads no English after it
  });
});

describe('a reason with its English in brackets at the end, as the rules and checklist editor writes them', () => {
  const duplicate = 'items[2].id: 编号 fire_ext 与第 1 项重复，每个检查项须有自己的编号（items: every item needs its own id）';
  const stale =
    '您修改的是第 3 版，但已有人保存了第 4 版：请刷新页面，在新版本上重新修改' +
    '（version 3 was edited, but the current version is 4; reload and edit again）';

  it('is the bracket in English, with the field it names', () => {
    expect(reasonIn(duplicate, 'en')).toBe('items[2].id: items: every item needs its own id');
    expect(reasonIn(stale, 'en')).toBe('version 3 was edited, but the current version is 4; reload and edit again');
    expect(reasonIn('items[0].id: 必须填写（items[0].id: required field is missing）', 'en')).toBe(
      'items[0].id: required field is missing',
    );
  });

  it('is the text before the bracket in Chinese', () => {
    expect(reasonIn(duplicate, 'zh-CN')).toBe('items[2].id: 编号 fire_ext 与第 1 项重复，每个检查项须有自己的编号');
    expect(reasonIn(stale, 'zh-CN')).toBe('您修改的是第 3 版，但已有人保存了第 4 版：请刷新页面，在新版本上重新修改');
  });

  it('takes the last bracket, which may hold brackets and Chinese data of its own', () => {
    const category =
      'categories: “烧烤”不是店铺类别（调查表中的“烧烤”即类别 food），请勾选全部店铺或具体的店铺类别' +
      "（烧烤 is not a shop category (the survey's 烧烤 is the code food): name * (every shop) or category codes）";
    expect(reasonIn(category, 'en')).toBe(
      "categories: 烧烤 is not a shop category (the survey's 烧烤 is the code food): name * (every shop) or category codes",
    );
    expect(reasonIn(category, 'zh-CN')).toBe(
      'categories: “烧烤”不是店铺类别（调查表中的“烧烤”即类别 food），请勾选全部店铺或具体的店铺类别',
    );
  });

  it('says each of several joined by "; "', () => {
    const two = 'items[0].id: 必须填写（items[0].id: required field is missing）; 还有 2 处（and 2 more）';
    expect(reasonIn(two, 'en')).toBe('items[0].id: required field is missing; and 2 more');
    expect(reasonIn(two, 'zh-CN')).toBe('items[0].id: 必须填写; 还有 2 处');
  });

  it('leaves brackets that hold no English sentence to the Chinese text', () => {
    const codes = '跟进事项须为约谈（talk）、专项检查（inspection）或专班整治（working_group）';
    expect(reasonIn(codes, 'en')).toBe(codes);
    expect(reasonIn(codes, 'zh-CN')).toBe(codes);
    const example = '时区须填写时区名称（如 上海）';
    expect(reasonIn(example, 'en')).toBe(example);
  });
});
