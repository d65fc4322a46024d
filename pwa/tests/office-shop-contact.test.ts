// @vitest-environment happy-dom
// A shop's responsible person (负责人) and phone on the office's screens: the registry desk's shop form shows and
// edits them, the e-file and the black list show them with the phone as a link that dials it, the follow-up form
// offers the person as the one talked to, the import's report and the audit log name them in Chinese.
import { beforeEach, describe, expect, it, vi } from 'vitest';

const sent: { method: string; path: string; body: unknown }[] = [];
const registered: Record<string, Record<string, unknown>> = {};

const contact = { name: '王建国', phone: '+86 138-0013-8000' };

function rankingPage(url: URL): Record<string, unknown> {
  const list = url.searchParams.get('list');
  const black = [
    { rank: 2, shop: 'S0002', name: '面馆2', points: 70, open_hazards: 1, list: 'black', followup: null, outstanding: ['talk', 'inspection'], contact },
    { rank: 3, shop: 'S0003', name: '面馆3', points: 60, open_hazards: 2, list: 'black', followup: null, outstanding: ['talk', 'inspection'], contact: null },
  ];
  const red = [{ rank: 1, shop: 'S0001', name: '面馆1', points: 120, open_hazards: 0, list: 'red' }];
  const entries = list === 'black' ? black : list === 'red' ? red : url.searchParams.get('working_group') ? [] : [...red, ...black];
  return {
    month: '2026-11',
    of: 3,
    total: entries.length,
    offset: 0,
    limit: 50,
    counts: { red: 1, black: 2, none: 0, working_group: 0 },
    followups: { black: 2, talked: 0, inspected: 0, inspection_planned: 0, working_group: 0, group_active: 0, group_ended: 0, outstanding: 2 },
    working_group: [],
    published: null,
    entries,
  };
}

vi.mock('../src/office/api', async (actual) => ({
  ...(await actual<typeof import('../src/office/api')>()),
  get: async (path: string) => {
    const url = new URL(path, 'http://office.test');
    if (url.pathname === '/api/office/registry/shops') {
      const shop = registered[url.searchParams.get('code') ?? ''];
      return { items: shop ? [shop] : [], total: shop ? 1 : 0 };
    }
    if (url.pathname === '/api/office/rankings') return { months: [{ month: '2026-11' }] };
    if (url.pathname === '/api/office/ranking') return rankingPage(url);
    const efile = /^\/api\/office\/shops\/(\w+)\/efile$/.exec(url.pathname);
    if (efile) return { shop: { ...registered[efile[1]!], status: 'active' }, score: null, timeline: [] };
    if (url.pathname === '/api/office/templates') return { templates: [] };
    if (url.pathname === '/api/office/registry/communities') return { communities: [] };
    if (url.pathname === '/api/office/registry/subdistricts') return { subdistricts: [] };
    if (url.pathname === '/api/office/users') return { items: [] };
    throw new Error(`unexpected ${path}`);
  },
  send: async (method: string, path: string, body: unknown) => {
    sent.push({ method, path, body });
    return path.endsWith('/activation') ? { shop: 'S0001', code: '12345678', expires_at: '2026-12-09T10:00:00+08:00' } : {};
  },
}));
vi.mock('../src/office/people', () => ({
  staffNames: async () => new Map<string, string>(),
  forgetStaffNames: () => undefined,
  personName: (names: Map<string, string>, id: string) => names.get(id) ?? id,
}));
vi.mock('../src/office/reach', async (actual) => ({
  ...(await actual<typeof import('../src/office/reach')>()),
  ownSubdistrict: () => null,
  subdistricts: async () => [],
}));

beforeEach(() => {
  sent.length = 0;
  for (const code of Object.keys(registered)) delete registered[code];
  registered.S0001 = { code: 'S0001', name: '小吃店', address: '曙光北路1号', category: 'food', grid: 'g1', contact };
  registered.S0002 = { code: 'S0002', name: '面馆', address: '曙光北路2号', category: 'food', grid: 'g1', contact: null };
  document.body.replaceChildren();
  localStorage.clear();
});

function typeIn(root: HTMLElement, name: string, value: string): HTMLInputElement {
  const el = root.querySelector<HTMLInputElement>(`input[name=${name}]`)!;
  el.value = value;
  el.dispatchEvent(new Event('input'));
  el.dispatchEvent(new Event('change'));
  return el;
}

async function save(root: HTMLElement): Promise<{ method: string; path: string; body: unknown }> {
  const before = sent.length;
  root.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
  await vi.waitFor(() => expect(sent.length).toBe(before + 1));
  return sent[sent.length - 1]!;
}

describe('the shop form of the registry desk', () => {
  it('shows a registered shop’s person and phone once its code is typed, and sends what is changed', async () => {
    const { shopForm } = await import('../src/office/registry');
    const root = shopForm([{ code: 'g1', name: '一网格' }]);
    document.body.append(root);
    typeIn(root, 'code', 'S0001');
    const person = root.querySelector<HTMLInputElement>('input[name=contact_name]')!;
    await vi.waitFor(() => expect(person.value).toBe('王建国'));
    const phone = root.querySelector<HTMLInputElement>('input[name=contact_phone]')!;
    expect(phone.value).toBe('+86 138-0013-8000');
    expect(phone.type).toBe('tel'); // a phone's keypad
    expect(root.querySelector<HTMLInputElement>('input[name=name]')!.value).toBe('小吃店');
    phone.value = '0571-88001234';
    const saved = await save(root);
    expect(saved.method).toBe('PATCH');
    expect(saved.path).toBe('/api/office/shops/S0001');
    expect(saved.body).toMatchObject({ name: '小吃店', contact: { name: '王建国', phone: '0571-88001234' } });
  });

  it('removes the contact when both fields shown are emptied', async () => {
    const { shopForm } = await import('../src/office/registry');
    const root = shopForm([]);
    document.body.append(root);
    typeIn(root, 'code', 'S0001');
    const person = root.querySelector<HTMLInputElement>('input[name=contact_name]')!;
    await vi.waitFor(() => expect(person.value).toBe('王建国'));
    person.value = '';
    root.querySelector<HTMLInputElement>('input[name=contact_phone]')!.value = '';
    expect((await save(root)).body).toMatchObject({ contact: { name: '', phone: '' } });
  });

  it('shows another shop’s own when another code is typed, and keeps what the clerk typed', async () => {
    const { shopForm } = await import('../src/office/registry');
    const root = shopForm([]);
    document.body.append(root);
    const value = (name: string): string => root.querySelector<HTMLInputElement>(`input[name=${name}]`)!.value;
    typeIn(root, 'code', 'S0001');
    await vi.waitFor(() => expect(value('contact_name')).toBe('王建国'));
    typeIn(root, 'address', '曙光北路100号'); // typed: the clerk's, whichever shop
    typeIn(root, 'code', 'S0002'); // registered without a contact: S0001's must not be saved under its code
    await vi.waitFor(() => expect(value('name')).toBe('面馆'));
    expect([value('contact_name'), value('contact_phone'), value('address')]).toEqual(['', '', '曙光北路100号']);
    typeIn(root, 'code', 'S0100'); // a new shop: nothing of a registered one stays
    await vi.waitFor(() => expect(value('name')).toBe(''));
    expect((await save(root)).body).toEqual({ code: 'S0100', address: '曙光北路100号' });
  });

  it('registers a new shop with the person and phone typed', async () => {
    const { shopForm } = await import('../src/office/registry');
    const root = shopForm([]);
    document.body.append(root);
    typeIn(root, 'code', 'S0100');
    for (const [name, value] of [['name', '老李面馆'], ['address', '明南路8号'], ['grid', 'g2'], ['contact_name', '李秀英'], ['contact_phone', '139 0013 9000']]) {
      typeIn(root, name!, value!);
    }
    const saved = await save(root);
    expect(saved).toEqual({
      method: 'POST',
      path: '/api/office/shops',
      body: { code: 'S0100', name: '老李面馆', address: '明南路8号', grid: 'g2', contact: { name: '李秀英', phone: '139 0013 9000' } },
    });
  });

  it('keeps what is registered of a contact the form did not show, and sends none when nothing is typed', async () => {
    const { shopBody } = await import('../src/office/registry');
    const values = { code: 'S0001', name: '', address: '', category: '', grid: '', contact_name: '', contact_phone: '13700137000' };
    expect(shopBody(values, false, contact)).toEqual({ code: 'S0001', contact: { name: '王建国', phone: '13700137000' } });
    expect(shopBody({ ...values, contact_phone: '' }, false, contact)).toEqual({ code: 'S0001' });
    expect(shopBody({ ...values, contact_phone: ' ' }, true, contact)).toEqual({ code: 'S0001', contact: { name: '', phone: '' } });
  });
});

describe('an activation code for a shop whose owner had activated', () => {
  const issued = async (code: string): Promise<HTMLElement> => {
    const { shops } = await import('../src/office/shops');
    const root = shops(new URLSearchParams(), [code]);
    document.body.append(root);
    await vi.waitFor(() => expect(root.querySelector('[data-details]')).not.toBeNull());
    [...root.querySelectorAll('button')].find((b) => b.textContent === '生成店主激活码')!.click();
    await vi.waitFor(() => expect(root.querySelector('.activation')!.textContent).toContain('12345678'));
    return root;
  };

  it('reminds on the e-file that the 负责人 registered may be the previous owner’s, and leads to change them', async () => {
    registered.S0001 = { ...registered.S0001, owner_activated: true };
    const root = await issued('S0001');
    const reminder = root.querySelector<HTMLElement>('[data-contact-reminder]')!;
    expect(reminder.textContent).toContain('登记的负责人 王建国 +86 138-0013-8000 可能还是原店主，请核对并修改。');
    const change = reminder.querySelector<HTMLAnchorElement>('a[data-action=edit-contact]')!;
    expect(change.textContent).toBe('修改负责人及电话');
    expect(change.getAttribute('href')).toBe('/office/registry?section=shop&shop=S0001');
  });

  it('says nothing of a first owner’s code, nor of a shop with no contact registered', async () => {
    expect((await issued('S0001')).querySelector('[data-contact-reminder]')).toBeNull(); // no owner yet
    registered.S0002 = { ...registered.S0002, owner_activated: true };
    expect((await issued('S0002')).querySelector('[data-contact-reminder]')).toBeNull();
  });

  it('leads to the registry desk’s shop form showing the shop, the cursor in its 负责人', async () => {
    vi.spyOn(Element.prototype, 'scrollIntoView').mockImplementation(() => undefined);
    const { registry } = await import('../src/office/registry');
    const root = registry(new URLSearchParams('section=shop&shop=S0001'), []);
    document.body.append(root);
    await vi.waitFor(() => expect(root.querySelector('form[data-form=shop]')).not.toBeNull());
    const person = root.querySelector<HTMLInputElement>('form[data-form=shop] input[name=contact_name]')!;
    await vi.waitFor(() => expect(person.value).toBe('王建国'));
    expect(root.querySelector<HTMLInputElement>('form[data-form=shop] input[name=code]')!.value).toBe('S0001');
    expect(document.activeElement).toBe(person);
  });

  it('reminds at the desk’s own activation form too, whose button shows the shop in the shop form', async () => {
    vi.spyOn(Element.prototype, 'scrollIntoView').mockImplementation(() => undefined);
    registered.S0001 = { ...registered.S0001, owner_activated: true };
    const { registry } = await import('../src/office/registry');
    const root = registry(new URLSearchParams(), []);
    document.body.append(root);
    await vi.waitFor(() => expect(root.querySelector('form[data-form=activation]')).not.toBeNull());
    const asked = root.querySelector<HTMLFormElement>('form[data-form=activation]')!;
    asked.querySelector<HTMLInputElement>('input[name=shop]')!.value = 'S0001';
    asked.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(asked.querySelector('.form-status')!.textContent).toContain('12345678'));
    await vi.waitFor(() => expect(root.querySelector('[data-contact-reminder]')).not.toBeNull());
    const reminder = root.querySelector<HTMLElement>('[data-contact-reminder]')!;
    expect(reminder.textContent).toContain('王建国 +86 138-0013-8000');
    reminder.querySelector<HTMLButtonElement>('[data-action=edit-contact]')!.click();
    const shop = root.querySelector<HTMLFormElement>('form[data-form=shop]')!;
    await vi.waitFor(() => expect(shop.querySelector<HTMLInputElement>('input[name=contact_name]')!.value).toBe('王建国'));
    expect(shop.querySelector<HTMLInputElement>('input[name=code]')!.value).toBe('S0001');
  });
});

describe('the e-file', () => {
  it('shows the person and the phone as a link that dials it, and a dash for what is not registered', async () => {
    const { contactDetails } = await import('../src/office/shops');
    const [name, phone] = contactDetails(contact);
    expect(name!.textContent).toBe('负责人王建国');
    const link = phone!.querySelector('a')!;
    expect(link.textContent).toBe('+86 138-0013-8000');
    expect(link.getAttribute('href')).toBe('tel:+8613800138000');
    const none = contactDetails(null).map((el) => el.querySelector('dd')!.textContent);
    expect(none).toEqual(['—', '—']);
    expect(contactDetails({ phone: '0571-88001234' })[1]!.querySelector('a')!.getAttribute('href')).toBe('tel:057188001234');
  });
});

describe('the black list', () => {
  it('names whom to call in beside each black-listed shop, and offers the person as the one talked to', async () => {
    const { ranking } = await import('../src/office/ranking');
    const root = ranking(new URLSearchParams(), []);
    document.body.append(root);
    await vi.waitFor(() => expect(root.querySelectorAll('[data-ranking=black] tbody tr')).toHaveLength(2));
    const called = root.querySelector<HTMLElement>('[data-ranking=black] [data-contact=S0002]')!;
    expect(called.textContent).toBe('王建国 +86 138-0013-8000');
    expect(called.querySelector('a')!.getAttribute('href')).toBe('tel:+8613800138000');
    expect(root.querySelector('[data-ranking=black] [data-contact=S0003]')!.textContent).toBe('未登记');
    const heads = [...root.querySelectorAll('[data-ranking=black] thead th')].map((th) => th.textContent);
    expect(heads).toContain('负责人及电话');
    // The red list names no one.
    await vi.waitFor(() => expect(root.querySelectorAll('[data-ranking=red] tbody tr')).toHaveLength(1));
    expect(root.querySelector('[data-ranking=red] [data-contact]')).toBeNull();

    root.querySelector<HTMLButtonElement>('[data-ranking=black] [data-followup=S0002] [data-action=followup]')!.click();
    const talk = root.querySelector<HTMLFormElement>('[data-form=followup][data-shop=S0002]')!;
    expect(talk.querySelector<HTMLInputElement>('input[name=talked_to]')!.value).toBe('王建国');
    root.querySelector<HTMLButtonElement>('[data-ranking=black] [data-followup=S0003] [data-action=followup]')!.click();
    const other = root.querySelector<HTMLFormElement>('[data-form=followup][data-shop=S0003]')!;
    expect(other.querySelector<HTMLInputElement>('input[name=talked_to]')!.value).toBe('');
  });
});

describe('the import and the log', () => {
  it('names the contact’s columns in a refused row, and asks for them in the template', async () => {
    const { importReport, TEMPLATE_HEADINGS } = await import('../src/office/registry');
    const report = importReport({
      job: 'j1',
      status: 'done',
      total: 1,
      done: 1,
      refused: 1,
      errors: [{ line: 2, field: 'contact_phone', reason: '联系电话只能有数字、空格、+ 和 -。contact.phone: must be a phone number' }],
    });
    const row = [...report.querySelectorAll('[data-table=import-errors] tbody td')].map((td) => td.textContent);
    expect(row).toEqual(['2', '联系电话', '联系电话只能有数字、空格、+ 和 -。']);
    expect(TEMPLATE_HEADINGS.map((cell) => cell.replace(/（[^（）]*）$/, '')).slice(-2)).toEqual(['负责人', '联系电话']);
  });

  it('says a contact changed, or was removed, and never whose', async () => {
    const { detailOf } = await import('../src/office/audit');
    expect(detailOf('by office:wang: contact: changed')).toBe('操作人 wang：负责人及电话：已修改');
    expect(detailOf('by office:wang: name: 新名; contact: removed')).toBe('操作人 wang：名称：新名；负责人及电话：已删除');
  });
});
