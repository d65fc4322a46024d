// @vitest-environment happy-dom
// The webhook's delivery log at the foot of the alarm desk: an attempt cut short by a stop of the server says so in
// words (not as a failure with the server's raw reason), and that the next start tries it again; an attempt still
// waiting for its answer says it is being sent (not that it failed).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setLang } from '../src/i18n';

const entry = (attempt: number, more: object) => ({
  delivery: '01M8R9J2TGXBQDNJSS9Q6K6BS6',
  event: 'alarm.new',
  alarm: 'S0001:alarm:a',
  shop: 'S0001',
  attempt,
  of: null,
  status: null,
  next_at: null,
  given_up: false,
  interrupted: false,
  sending: false,
  ...more,
});
vi.mock('../src/office/api', async (actual) => ({
  ...(await actual<typeof import('../src/office/api')>()),
  get: async () => ({
    configured: true,
    items: [
      entry(8, { ok: false, error: null, at: '2026-12-04T10:08:00+08:00', sending: true }),
      entry(7, { ok: false, status: 500, error: 'HTTP 500', at: '2026-12-04T10:03:00+08:00', next_at: '2026-12-04T10:08:00+08:00' }),
      entry(6, { ok: false, error: '被中止：服务停止 / interrupted: the server stopped', at: '2026-12-04T10:02:00+08:00', interrupted: true }),
      entry(5, { ok: false, status: 500, error: 'HTTP 500', at: '2026-12-04T10:01:00+08:00', next_at: '2026-12-04T10:06:00+08:00' }),
    ],
  }),
}));

/** The rows of the unfolded log: [attempt, outcome, next] of each. */
async function rows(): Promise<string[][]> {
  const { webhookLog } = await import('../src/office/alarms');
  const panel = webhookLog() as HTMLDetailsElement;
  document.body.replaceChildren(panel);
  panel.open = true;
  panel.dispatchEvent(new Event('toggle'));
  await vi.waitFor(() => expect(panel.querySelectorAll('tr[data-delivery]')).toHaveLength(4));
  return [...panel.querySelectorAll('tr[data-delivery]')].map((tr) =>
    [...tr.querySelectorAll('td')].slice(2).map((td) => td.textContent ?? ''),
  );
}

describe('the webhook delivery log', () => {
  afterEach(() => setLang('zh-CN'));

  it('shows an attempt a stop of the server cut short as 被中止, retried when the server starts again', async () => {
    const [, after, cut, before] = await rows();
    expect(cut).toEqual(['6', '被中止：服务停止（对方可能已收到）', '服务重启后重试']);
    expect(document.querySelectorAll('tr[data-interrupted]')).toHaveLength(1);
    expect(after?.[1]).toBe('失败：HTTP 500');
    expect(before?.[1]).toBe('失败：HTTP 500');
  });

  it('says it in English too', async () => {
    setLang('en');
    const [going, , cut] = await rows();
    expect(cut).toEqual(['6', 'interrupted: the server stopped (the receiver may have it)', 'retried when the server starts again']);
    expect(going).toEqual(['8', 'sending (waiting for the answer)', '']);
  });

  it('shows an attempt still waiting for its answer as being sent, not as failed', async () => {
    const [going] = await rows();
    expect(going).toEqual(['8', '发送中（等待对方应答）', '']);
    expect(document.querySelectorAll('tr[data-sending]')).toHaveLength(1);
  });
});
