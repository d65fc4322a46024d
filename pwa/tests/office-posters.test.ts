// @vitest-environment happy-dom
// The poster screen shows the address every QR code and poster will hold, asked of the server, and warns (Chinese
// first, English second) when phones cannot open it: loopback, a LAN address, plain http. It prints a community's,
// a grid's (the stack its grid worker takes round) or one shop's posters.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setLang } from '../src/i18n';
import { officeEn, officeZh } from '../src/office/i18n';
import { type PosterAddress, posterAddressBlock, posterProblems, registry } from '../src/office/registry';
import { signIn } from '../src/session';

const LOCAL: PosterAddress = {
  base: 'http://127.0.0.1:8000',
  url: 'http://127.0.0.1:8000/s/{code}',
  configured: false,
  loopback: true,
  localhost: false,
  private: false,
  http: true,
  ok: false,
};
const PUBLIC: PosterAddress = {
  base: 'https://mashang.example.cn',
  url: 'https://mashang.example.cn/s/{code}',
  configured: true,
  loopback: false,
  localhost: false,
  private: false,
  http: false,
  ok: true,
};

let address: PosterAddress = LOCAL;
let asked: string[] = [];
const GRIDS = [
  { code: 'g1', name: '文三一网格', workers: ['zhou'], shops: 2 },
  { code: 'g2', name: '文三二网格', workers: ['li'], shops: 1 },
];
let communities: unknown[] = [];

beforeEach(() => {
  asked = [];
  communities = [{ code: 'wensan', name: '文三社区', shops: 3, grids: GRIDS }];
  signIn({ token: 't1', user: { id: 'office:wang', role: 'office', name: '王' } });
  vi.stubGlobal('fetch', async (path: string) => {
    asked.push(path);
    const answers: Record<string, unknown> = {
      '/api/office/posters/address': address,
      '/api/office/registry/communities': communities,
    };
    return new Response(JSON.stringify(answers[path.split('?')[0]!] ?? []), { status: 200 });
  });
});

afterEach(() => {
  vi.unstubAllGlobals();
  setLang('zh-CN');
  document.body.replaceChildren();
});

async function screen(): Promise<HTMLElement> {
  const root = registry(new URLSearchParams(), []);
  document.body.append(root);
  for (let i = 0; i < 50 && !root.querySelector('[data-poster-address]'); i++) await new Promise((r) => setTimeout(r, 0));
  return root;
}

describe('the poster screen', () => {
  it('shows the loopback address the posters would hold, with a warning to set MASHANG_PUBLIC_URL', async () => {
    address = LOCAL;
    const root = await screen();
    expect(asked).toContain('/api/office/posters/address');
    const block = root.querySelector<HTMLElement>('[data-poster-address]')!;
    expect(block.textContent).toContain('http://127.0.0.1:8000/s/店铺编号');
    expect(block.textContent).toContain('未设置 MASHANG_PUBLIC_URL');
    const warning = root.querySelector<HTMLElement>('[data-poster-warning]')!;
    expect(warning.getAttribute('role')).toBe('alert');
    expect(warning.dataset.posterWarning).toBe('loopback http');
    expect(warning.textContent).toContain('手机扫码很可能打不开');
    expect(warning.textContent).toContain('本机地址');
    expect(warning.textContent).toContain('无法离线使用');
    expect(warning.textContent).toContain('MASHANG_PUBLIC_URL');
    expect(warning.textContent).toContain('https');
    // Beside the buttons that print: in the posters' own section, before the communities' table.
    const section = warning.closest('section')!;
    expect(section.querySelector('[data-table=communities]')).not.toBeNull();
    expect(warning.compareDocumentPosition(section.querySelector('[data-table=communities]')!)).toBe(
      Node.DOCUMENT_POSITION_FOLLOWING,
    );
  });

  it('warns of a LAN address, and in English', async () => {
    address = { ...LOCAL, base: 'http://192.168.1.20:8000', url: 'http://192.168.1.20:8000/s/{code}', loopback: false, private: true };
    setLang('en');
    const root = await screen();
    const warning = root.querySelector<HTMLElement>('[data-poster-warning]')!;
    expect(warning.dataset.posterWarning).toBe('private http');
    expect(warning.textContent).toContain('local network');
    expect(warning.textContent).toContain('Ask the administrator to set MASHANG_PUBLIC_URL');
    expect(root.querySelector('[data-poster-address]')!.textContent).toContain('http://192.168.1.20:8000/s/shop code');
  });

  it('shows a public https address with no warning', async () => {
    address = PUBLIC;
    const root = await screen();
    const block = root.querySelector<HTMLElement>('[data-poster-address]')!;
    expect(block.dataset.posterOk).toBe('true');
    expect(block.textContent).toContain('https://mashang.example.cn/s/店铺编号');
    expect(block.textContent).toContain('来自服务器设置 MASHANG_PUBLIC_URL');
    expect(root.querySelector('[data-poster-warning]')).toBeNull();
  });
});

describe('a grid\'s posters', () => {
  it('are offered grid by grid, with its community and shops, and the one chosen is asked of the server', async () => {
    vi.spyOn(URL, 'createObjectURL').mockImplementation(() => 'blob:posters');
    const root = await screen();
    const choice = root.querySelector<HTMLSelectElement>('select[name=poster_grid]')!;
    // In the posters' own section, beside the communities' table.
    expect(choice.closest('section')!.querySelector('[data-table=communities]')).not.toBeNull();
    expect([...choice.options].map((o) => [o.value, o.textContent])).toEqual([
      ['g1', '文三一网格（文三社区，2 家店铺）'],
      ['g2', '文三二网格（文三社区，1 家店铺）'],
    ]);
    expect(choice.closest('label')!.textContent).toContain('由网格员送到每家每户张贴');
    choice.value = 'g2';
    const print = root.querySelector<HTMLButtonElement>('button[data-posters-grid]')!;
    expect(print.textContent).toBe('打印整个网格的海报');
    print.click();
    await vi.waitFor(() => expect(asked).toContain('/api/office/posters.pdf?grid=g2'));
    await vi.waitFor(() => expect(root.querySelector('.form-status.ok')?.textContent).toContain('posters-g2.pdf'));
  });

  it('cannot be asked for before a grid is registered', async () => {
    communities = [{ code: 'wensan', name: '文三社区', shops: 0, grids: [] }];
    const root = await screen();
    expect(root.querySelector<HTMLButtonElement>('button[data-posters-grid]')!.disabled).toBe(true);
  });
});

describe('one shop\'s poster', () => {
  it('is printed by Enter in the shop\'s code, as by the button, but not by the Enter that ends a composition', async () => {
    vi.spyOn(URL, 'createObjectURL').mockImplementation(() => 'blob:poster');
    const root = await screen();
    const code = root.querySelector<HTMLInputElement>('input[name=poster_shop]')!;
    code.value = ' S0042 ';
    code.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', isComposing: true, bubbles: true, cancelable: true }));
    await new Promise((r) => setTimeout(r, 0));
    expect(asked.filter((p) => p.startsWith('/api/office/posters.pdf'))).toEqual([]);
    const enter = new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true });
    code.dispatchEvent(enter);
    expect(enter.defaultPrevented).toBe(true);
    await vi.waitFor(() => expect(asked).toContain('/api/office/posters.pdf?shop=S0042'));
    await vi.waitFor(() => expect(root.querySelector('.form-status.ok')?.textContent).toContain('poster-S0042.pdf'));
    // The button asks the same.
    asked = [];
    root.querySelector<HTMLButtonElement>('button[data-posters-shop]')!.click();
    await vi.waitFor(() => expect(asked).toEqual(['/api/office/posters.pdf?shop=S0042']));
  });
});

describe('what keeps phones from the address', () => {
  it('is named once a reason, the most serious first', () => {
    expect(posterProblems(PUBLIC)).toEqual([]);
    expect(posterProblems(LOCAL)).toEqual(['loopback', 'http']);
    expect(posterProblems({ ...PUBLIC, localhost: true, loopback: true })).toEqual(['loopback']);
    expect(posterProblems({ ...PUBLIC, private: true })).toEqual(['private']);
    expect(posterAddressBlock({ ...PUBLIC, http: true }).querySelector('[data-poster-warning]')).not.toBeNull();
  });

  it('is worded in both languages', () => {
    const keys = [
      'registry.posterAddress',
      'registry.posterAddressSet',
      'registry.posterAddressUnset',
      'registry.posterWarning',
      'registry.posterWarning.loopback',
      'registry.posterWarning.private',
      'registry.posterWarning.http',
      'registry.posterWarning.fix',
      'registry.postersGrid',
      'registry.postersGridHint',
      'registry.postersGridChoice',
    ] as const;
    for (const key of keys) {
      expect(officeZh[key]).toMatch(/[\u4e00-\u9fff]/);
      expect(officeEn[key]).toMatch(/^[\x20-\x7e]+$/);
    }
  });
});
