// @vitest-environment happy-dom
// The registry desk's refusals name the field as its form labels it (地址, 类别, 联系电话), in the screen's language:
// the server names it by its key in the API's body (`address: …`, `contact.phone: …`), which a clerk never sees.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setLang } from '../src/i18n';
import { ApiError } from '../src/session';

let refusal: ApiError;

vi.mock('../src/office/api', async (actual) => ({
  ...(await actual<typeof import('../src/office/api')>()),
  get: async () => ({ items: [], total: 0 }), // no shop of that code: a new one
  send: async () => {
    throw refusal;
  },
}));

beforeEach(() => {
  document.body.replaceChildren();
  setLang('zh-CN');
});

afterEach(() => setLang('zh-CN'));

// As the server words them (server/api/common.py `text_field`, server/importer.py `unknown_category`,
// server/registry.py `contact_of`).
const NO_ADDRESS = 'address: 不能为空。a non-empty string is required';
const CATEGORY = '不认识的类别“茶馆”：请填写 餐饮、超市 之一（或类别代码 food, retail），不确定就填“其他”。'
  + 'unknown category 茶馆: write a category such as 餐饮 or its code (food, retail)';
const PHONE = '联系电话只能有数字、空格、+ 和 -，如 138 0013 8000 或 0571-8800 1234（7 至 20 位数字，一格只填一个号码）。'
  + 'must be a phone number of 7 to 20 digits, with only spaces, + and - between them';

async function refused(reason: string): Promise<string> {
  refusal = new ApiError(400, 'bad_request', reason);
  const { shopForm } = await import('../src/office/registry');
  const root = shopForm([{ code: 'g1', name: '一网格' }]);
  document.body.append(root);
  root.querySelector<HTMLInputElement>('input[name=code]')!.value = 'S0100';
  root.querySelector<HTMLInputElement>('input[name=name]')!.value = '老李面馆';
  root.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
  const status = root.querySelector<HTMLElement>('.form-status')!;
  await vi.waitFor(() => expect(status.classList.contains('error')).toBe(true));
  return status.textContent ?? '';
}

describe('a refusal of the shop form', () => {
  it('names an empty address as the form does, in Chinese on the Chinese screen', async () => {
    expect(await refused(NO_ADDRESS)).toBe('操作失败: 地址：不能为空。');
  });

  it('names the field by its label, not its key, in English too', async () => {
    setLang('en');
    expect(await refused(NO_ADDRESS)).toBe('Failed: Address: a non-empty string is required');
    expect(await refused(`category: ${CATEGORY}`)).toBe(
      'Failed: Category: unknown category 茶馆: write a category such as 餐饮 or its code (food, retail)',
    );
    expect(await refused(`contact.phone: ${PHONE}`)).toBe(
      'Failed: Phone: must be a phone number of 7 to 20 digits, with only spaces, + and - between them',
    );
  });

  it('says a category or a phone without the key in front, and a phone’s label once', async () => {
    const category = await refused(`category: ${CATEGORY}`);
    expect(category).toBe('操作失败: 类别：不认识的类别“茶馆”：请填写 餐饮、超市 之一（或类别代码 food, retail），不确定就填“其他”。');
    expect(await refused(`contact.phone: ${PHONE}`)).toBe(`操作失败: ${PHONE.slice(0, PHONE.indexOf('。') + 1)}`);
    expect(await refused('grid: 没有网格“g9”：请填写网格编号或名称。no grid g9')).toBe('操作失败: 网格：没有网格“g9”：请填写网格编号或名称。');
  });

  it('says an unknown code the server names Chinese first (server/errors.py `unknown_in`) in the screen language', async () => {
    expect(await refused('grid: 没有编号为 g9 的网格。no grid g9')).toBe('操作失败: 网格：没有编号为 g9 的网格。');
    setLang('en');
    expect(await refused('grid: 没有编号为 g9 的网格。no grid g9')).toBe('Failed: Grid: no grid g9');
  });

  it('leaves a reason that names no field of the form as it is', async () => {
    const { fieldNamed } = await import('../src/office/registry');
    expect(fieldNamed('没有编号为 S9 的店铺。', { code: 'common.code' })).toBe('没有编号为 S9 的店铺。');
    expect(fieldNamed('status: not a field', { code: 'common.code' })).toBe('status: not a field');
  });
});
