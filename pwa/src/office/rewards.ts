// Rewards (积分兑换): each shop's earned, redeemed and available points, and recording a redemption for a prize.
import { h } from '../dom';
import { newUlid } from '../ulid';
import { get, qs, send } from './api';
import { num, when } from './format';
import { ot } from './i18n';
import type { Screen } from './main';
import { officePath } from './main';
import { personName, staffNames } from './people';
import { badge, field, form, input, listOf, loadInto, searchBox, section, select, str, submit, table } from './ui';

export interface Balance {
  shop: string;
  name?: string;
  community?: string;
  points?: number;
  rank?: number | null;
  list?: 'red' | 'black' | null;
  earned?: number;
  redeemed?: number;
  balance?: number;
}

/** `name`: the shop's, for the question asked before a redemption is recorded (none is ever taken back);
 *  `balance`: its points available as the desk read them, checked before that question (the server checks again, and
 *  its refusal, a balance spent meanwhile, is said the same way: 操作失败: 可兑换积分不足…). */
export function redeemForm(shop: string, name: string, done: () => void, balance?: number): HTMLFormElement {
  // One request id per form: a retry after a lost answer records the redemption once.
  let requestId = newUlid();
  return form({ 'data-form': 'redeem', 'data-shop': shop }, [
    field(ot('common.points'), input('points', { type: 'number', min: '1', step: '1', required: true })),
    field(ot('rewards.prize'), input('prize', { required: true, maxlength: '200' })),
    field(ot('common.note'), input('note', { maxlength: '1000' })),
    submit(ot('rewards.record')),
  ], async (data) => {
    const points = Number(data.get('points'));
    const prize = String(data.get('prize') ?? '').trim();
    // More than the shop has is refused here, with the reason, not confirmed first and then refused by the server.
    if (typeof balance === 'number' && points > balance) {
      throw new Error(ot('rewards.insufficient', { have: num(Math.max(balance, 0)), need: num(points) }));
    }
    // The points leave the shop's balance for good: there is no undoing a redemption, so it is asked first.
    if (!confirm(ot('rewards.confirm', { shop: name || shop, code: shop, points: num(points), prize }))) {
      return ot('rewards.cancelled');
    }
    await send('POST', `/api/office/rewards/${encodeURIComponent(shop)}/redemptions`, {
      points,
      prize,
      note: String(data.get('note') ?? '').trim(),
      request_id: requestId,
    });
    requestId = newUlid();
    done();
  });
}

function oneShop(code: string): HTMLElement {
  const box = h('div', {});
  const load = (): void => void loadInto(box, async () => {
    const [s, names] = await Promise.all([
      get<Record<string, unknown> & { history?: Record<string, unknown>[] }>(
        `/api/office/rewards/${encodeURIComponent(code)}`,
      ),
      staffNames().catch(() => new Map<string, string>()),
    ]);
    return [
      h('h2', {}, `${str(s.name) || code} · ${code}`),
      h('dl', { class: 'details', 'data-rewards': code },
        h('div', {}, h('dt', {}, ot('rewards.earned')), h('dd', {}, num(s.earned))),
        h('div', {}, h('dt', {}, ot('rewards.redeemed')), h('dd', {}, num(s.redeemed))),
        h('div', {}, h('dt', {}, ot('rewards.balance')), h('dd', { 'data-balance': '' }, num(s.balance)))),
      section(ot('rewards.record'), redeemForm(code, str(s.name), load, typeof s.balance === 'number' ? s.balance : undefined)),
      section(ot('rewards.history'), table(
        [
          { label: ot('common.time'), cell: (r: Record<string, unknown>) => when(r.at ?? r.performed_at ?? r.created_at) },
          { label: ot('common.points'), cell: (r: Record<string, unknown>) => num(r.points), cls: 'num' },
          { label: ot('rewards.prize'), cell: (r: Record<string, unknown>) => str(r.prize) },
          { label: ot('common.note'), cell: (r: Record<string, unknown>) => str(r.note) },
          { label: ot('common.by'), cell: (r: Record<string, unknown>) => personName(names, str(r.by ?? r.created_by)) },
        ],
        listOf<Record<string, unknown>>(s.history),
      )),
    ];
  });
  load();
  return h('div', { class: 'screen rewards-shop' }, h('p', {}, h('a', { href: officePath('rewards') }, `← ${ot('common.back')}`)), box);
}

/** The balances a search (a shop's code or part of its name) and a list (red, black, or on neither: `none`) keep. */
export function filterBalances(rows: readonly Balance[], q: string, list: string): Balance[] {
  const text = q.trim().toLowerCase();
  return rows.filter(
    (b) =>
      (!text || b.shop.toLowerCase().includes(text) || (b.name ?? '').toLowerCase().includes(text)) &&
      (!list || (list === 'none' ? !b.list : b.list === list)),
  );
}

export const rewards: Screen = (query, path) => {
  if (path[0]) return oneShop(path[0]);
  const box = h('div', {});
  void loadInto(box, async () => {
    const all = listOf<Balance>(await get<unknown>(`/api/office/rewards${qs({ community: query.get('community') })}`));
    // A sub-district's 1,500 shops in one table: the clerk finds the one at the counter by its code or name, or
    // looks over the red list's, the ones praised with prizes.
    const search = searchBox('q', ot('ranking.search'), () => draw(), 150);
    const list = select('list', [['', ot('common.all')], ['red', ot('ranking.red')], ['black', ot('ranking.black')], ['none', ot('ranking.none')]]);
    list.addEventListener('change', () => draw());
    const count = h('p', { class: 'muted', 'data-count': '' });
    const shown = h('div', {});
    const draw = (): void => {
      const rows = filterBalances(all, search.value, list.value);
      count.textContent = ot('rewards.count', { n: num(rows.length), of: num(all.length) });
      shown.replaceChildren(balances(rows));
    };
    draw();
    return [h('div', { class: 'filters', role: 'search' }, field(ot('common.search'), search), field(ot('ranking.list'), list)), count, shown];
  });
  return h('div', { class: 'screen rewards' }, h('h1', {}, ot('rewards.title')), box);
};

function balances(rows: Balance[]): HTMLElement {
    return table(
      [
        {
          label: ot('common.shop'),
          cell: (b: Balance) => h('a', { href: officePath('rewards', b.shop) }, b.name || b.shop),
          sort: (b) => b.name || b.shop,
        },
        { label: ot('common.code'), cell: (b: Balance) => b.shop, sort: (b) => b.shop },
        { label: ot('efile.score'), cell: (b: Balance) => num(b.points), cls: 'num', sort: (b) => b.points },
        { label: ot('efile.rank'), cell: (b: Balance) => num(b.rank), cls: 'num', sort: (b) => b.rank },
        // Red-listed shops are the ones praised with prizes: said on their row, as on the red/black list.
        {
          label: ot('ranking.list'),
          cell: (b: Balance) => (b.list ? badge(ot(b.list === 'red' ? 'ranking.red' : 'ranking.black'), `list ${b.list}`) : ''),
        },
        { label: ot('rewards.earned'), cell: (b: Balance) => num(b.earned), cls: 'num', sort: (b) => b.earned },
        { label: ot('rewards.redeemed'), cell: (b: Balance) => num(b.redeemed), cls: 'num', sort: (b) => b.redeemed },
        { label: ot('rewards.balance'), cell: (b: Balance) => num(b.balance), cls: 'num', sort: (b) => b.balance },
      ],
      rows,
      { 'data-table': 'rewards' },
    );
}
