// @vitest-environment happy-dom
// Rewards (积分兑换): the balances say which shops are on the red list (the ones praised with prizes), and a
// redemption, which no one can take back, is asked first, naming the shop, the points and the prize.
import { beforeEach, describe, expect, it, vi } from 'vitest';

const sent: { method: string; path: string; body: unknown }[] = [];
/** What the server answers a redemption with, when it refuses it. */
let refusal: Error | null = null;

vi.mock('../src/office/api', async (actual) => ({
  ...(await actual<typeof import('../src/office/api')>()),
  get: async (path: string) => {
    if (path === '/api/office/rewards/S0622') {
      return { shop: 'S0622', name: '富贵医药', earned: 20, redeemed: 0, balance: 20, history: [] };
    }
    if (path.startsWith('/api/office/rewards')) {
      return {
        items: [
          { shop: 'S0853', name: '宏达烟酒', points: 241, rank: 1, list: 'red', earned: 156, redeemed: 0, balance: 156 },
          { shop: 'S0001', name: '兴隆时装', points: 166, rank: 900, list: null, earned: 90, redeemed: 0, balance: 90 },
          { shop: 'S0622', name: '富贵医药', points: 59, rank: 1476, list: 'black', earned: 20, redeemed: 0, balance: 20 },
        ],
      };
    }
    throw new Error(`unexpected ${path}`);
  },
  send: async (method: string, path: string, body?: unknown) => {
    sent.push({ method, path, body });
    if (refusal) throw refusal;
    return {};
  },
}));

beforeEach(() => {
  sent.length = 0;
  document.body.replaceChildren();
  vi.unstubAllGlobals();
});

describe('rewards', () => {
  it('says on each balance which shops are on the red or black list', async () => {
    const { rewards } = await import('../src/office/rewards');
    const root = rewards(new URLSearchParams(), []);
    document.body.append(root);
    await vi.waitFor(() => expect(root.querySelectorAll('[data-table=rewards] tbody tr').length).toBe(3));
    const rows = [...root.querySelectorAll('[data-table=rewards] tbody tr')].map((tr) => tr.textContent ?? '');
    expect(rows[0]).toContain('红榜');
    expect(rows[1]).not.toMatch(/红榜|黑榜/);
    expect(rows[2]).toContain('黑榜');
  });

  it('asks before recording a redemption, and records nothing when the question is declined', async () => {
    const { redeemForm } = await import('../src/office/rewards');
    let done = 0;
    const form = redeemForm('S0853', '宏达烟酒', () => (done += 1));
    document.body.append(form);
    form.querySelector<HTMLInputElement>('input[name=points]')!.value = '50';
    form.querySelector<HTMLInputElement>('input[name=prize]')!.value = '灭火器一具';
    const asked: string[] = [];
    let answer = false;
    vi.stubGlobal('confirm', (question?: string) => {
      asked.push(question ?? '');
      return answer;
    });

    form.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(form.querySelector('.form-status')!.textContent).toBe('未登记兑换。'));
    expect(asked).toEqual(['确认为 宏达烟酒（S0853）登记兑换 50 积分，奖品：灭火器一具？登记后积分即扣除，不能撤销。']);
    expect(sent).toEqual([]);
    expect(done).toBe(0);

    answer = true;
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(done).toBe(1));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.path).toBe('/api/office/rewards/S0853/redemptions');
    expect(sent[0]!.body).toMatchObject({ points: 50, prize: '灭火器一具' });
  });
});

describe('a redemption beyond the balance', () => {
  const fill = (form: HTMLFormElement, points: string): void => {
    form.querySelector<HTMLInputElement>('input[name=points]')!.value = points;
    form.querySelector<HTMLInputElement>('input[name=prize]')!.value = '灭火器一具';
  };
  const status = (form: HTMLFormElement): string => form.querySelector('.form-status')!.textContent ?? '';

  it('is refused with the balance the desk knows, before the question is asked, and nothing is sent', async () => {
    const { redeemForm } = await import('../src/office/rewards');
    const form = redeemForm('S0622', '富贵医药', () => undefined, 20);
    document.body.append(form);
    const asked: string[] = [];
    vi.stubGlobal('confirm', (question?: string) => (asked.push(question ?? ''), true));
    fill(form, '50');
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(status(form)).toBe('操作失败: 余额不足：现有 20 分，需 50 分'));
    expect(form.querySelector('.form-status')!.classList.contains('error')).toBe(true);
    expect(asked).toEqual([]);
    expect(sent).toEqual([]);
    // The whole balance is asked as any redemption is.
    fill(form, '20');
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(asked).toHaveLength(1);
  });

  it('refused by the server (the balance spent meanwhile) says the server’s reason, in the screen’s language', async () => {
    const { ApiError } = await import('../src/office/api');
    const { setLang } = await import('../src/i18n');
    const { redeemForm } = await import('../src/office/rewards');
    refusal = new ApiError(409, 'insufficient_points',
      '可兑换积分不足：店铺 S0622 只有 5 分，本次要兑换 20 分。shop S0622 has 5 reward points; 20 were asked');
    vi.stubGlobal('confirm', () => true);
    try {
      const form = redeemForm('S0622', '富贵医药', () => undefined, 20);
      document.body.append(form);
      fill(form, '20');
      form.dispatchEvent(new Event('submit', { cancelable: true }));
      await vi.waitFor(() => expect(status(form)).toBe('操作失败: 可兑换积分不足：店铺 S0622 只有 5 分，本次要兑换 20 分。'));
      setLang('en');
      form.dispatchEvent(new Event('submit', { cancelable: true }));
      await vi.waitFor(() => expect(status(form)).toBe('Failed: shop S0622 has 5 reward points; 20 were asked'));
    } finally {
      refusal = null;
      setLang('zh-CN');
    }
  });

  it('is said in English too', async () => {
    const { setLang } = await import('../src/i18n');
    const { redeemForm } = await import('../src/office/rewards');
    setLang('en');
    try {
      const form = redeemForm('S0622', '富贵医药', () => undefined, 20);
      document.body.append(form);
      fill(form, '1500');
      form.dispatchEvent(new Event('submit', { cancelable: true }));
      await vi.waitFor(() => expect(status(form)).toBe('Failed: Not enough points: the shop has 20, this needs 1,500'));
      expect(sent).toEqual([]);
    } finally {
      setLang('zh-CN');
    }
  });

  it('on a shop’s page is checked against the balance shown there', async () => {
    const { rewards } = await import('../src/office/rewards');
    const root = rewards(new URLSearchParams(), ['S0622']);
    document.body.append(root);
    await vi.waitFor(() => expect(root.querySelector('[data-form=redeem]')).not.toBeNull());
    expect(root.querySelector('[data-balance]')!.textContent).toBe('20');
    const form = root.querySelector<HTMLFormElement>('[data-form=redeem]')!;
    const asked: string[] = [];
    vi.stubGlobal('confirm', (question?: string) => (asked.push(question ?? ''), true));
    fill(form, '21');
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(status(form)).toBe('操作失败: 余额不足：现有 20 分，需 21 分'));
    expect(asked).toEqual([]);
    expect(sent).toEqual([]);
  });
});

describe('finding a shop among the balances', () => {
  it('keeps the shops whose code or name has the text, on the list chosen, and says how many of all', async () => {
    const { rewards } = await import('../src/office/rewards');
    const root = rewards(new URLSearchParams(), []);
    document.body.append(root);
    const shops = (): string[] =>
      [...root.querySelectorAll('[data-table=rewards] tbody tr')].map((tr) => tr.querySelectorAll('td')[1]?.textContent ?? '');
    await vi.waitFor(() => expect(shops()).toHaveLength(3));
    expect(root.querySelector('[data-count]')!.textContent).toBe('显示 3 家，共 3 家');
    const search = root.querySelector<HTMLInputElement>('input[name=q]')!;
    search.value = '医药';
    search.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    expect(shops()).toEqual(['S0622']);
    search.value = 's0853';
    search.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    expect(shops()).toEqual(['S0853']);
    expect(root.querySelector('[data-count]')!.textContent).toBe('显示 1 家，共 3 家');
    search.value = '';
    search.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    const list = root.querySelector<HTMLSelectElement>('select[name=list]')!;
    list.value = 'none';
    list.dispatchEvent(new Event('change'));
    expect(shops()).toEqual(['S0001']);
    list.value = 'red';
    list.dispatchEvent(new Event('change'));
    expect(shops()).toEqual(['S0853']);
  });
});
