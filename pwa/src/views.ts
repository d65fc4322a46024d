// The screens everyone sees first: home, the public shop card with the owner's sign-in, staff sign-in.
// The owner's own screens live in owner.ts, loaded only once an owner is signed in.
import { chooseScore, loadCard, rememberScore, type Absent, type Card, type LocalScore, type ShownScore } from './card';
import { h } from './dom';
import { getLang, reasonIn, t, type MessageKey } from './i18n';
import { codeCandidates, loginPath, navigate, shopPath, type LoginRole, type Route } from './router';
import { ApiError, currentSession, deviceKeyFor, rememberDeviceKey, signIn } from './session';
import { shanghaiDay, shanghaiIso } from './ulid';

/** The shop's `{code}:score` document on this phone (its points, rank, list and `updated_at`). */
export type ShopScore = LocalScore;

/** Reads the shop's score projection if this device has it; null when it does not. */
export type ScoreLookup = (code: string) => Promise<ShopScore | null>;

export interface View {
  title: string;
  node: HTMLElement;
}

/** The owner's screens, appended into `into` once their chunk has loaded; `onScore` when `{code}:score` changes. */
export type OwnerMount = (code: string, into: HTMLElement, onScore: () => void) => void;

function homeView(): View {
  const session = currentSession();
  const mine = session?.user.role === 'owner' && session.shop ? shopPath(session.shop) : null;
  const staff = session?.user.role === 'grid' ? '/grid' : session?.user.role === 'office' ? '/office' : null;
  return {
    title: t('app.name'),
    node: h(
      'section',
      { class: 'page home' },
      h('h1', {}, t('home.title')),
      h('p', { class: 'lead' }, t('home.intro')),
      h(
        'div',
        { class: 'cards' },
        h('article', { class: 'card' }, h('h2', {}, t('shop.weeklyCheck')), h('p', {}, t('home.weekly'))),
        h('article', { class: 'card' }, h('h2', {}, t('shop.patrol')), h('p', {}, t('home.monthly'))),
      ),
      h(
        'nav',
        { class: 'actions' },
        mine && h('a', { class: 'button primary', href: mine }, t('owner.home')),
        staff && h('a', { class: 'button primary', href: staff }, t(staff === '/grid' ? 'home.openGrid' : 'home.openOffice')),
        !mine && !staff && h('a', { class: 'button primary', href: loginPath('owner') }, t('home.ownerLogin')),
        !mine && !staff && h('a', { class: 'button', href: loginPath('grid') }, t('home.gridLogin')),
      ),
    ),
  };
}

function day(value: string | null): string {
  return value ?? t('card.never');
}

/** How long ago a card's day (YYYY-MM-DD) was, said below it: 今天, 昨天, 「7 天前」 ('today', '7 days ago'); '' for
 *  no day, or a day after `today` (a phone's clock set back), which no count of days describes. */
export function daysAgo(value: string | null, today: string = shanghaiDay()): string {
  const days = value ? (Date.parse(`${today}T00:00:00Z`) - Date.parse(`${value}T00:00:00Z`)) / 86_400_000 : NaN;
  if (!Number.isInteger(days) || days < 0) return '';
  return days === 0 ? t('card.today') : days === 1 ? t('card.yesterday') : t('card.daysAgo', { n: days });
}

/** The day a card's date line shows, and how long ago it was on the line below it (`[data-ago]`). */
function showDay(el: HTMLElement, value: string | null): void {
  const ago = el.parentElement?.querySelector<HTMLElement>('[data-ago]');
  if (ago) ago.textContent = daysAgo(value);
}

/**
 * The card's 最近自查: the day the card says (`data-card-day`), or the day of a newer self-check on this phone the
 * card does not count yet (`data-pending-day`, set by the owner's home; `data-pending-unsent` when it still waits
 * to upload), so the card never says 暂无 beside the owner's 本周已自查.
 */
export function showLastSelfCheck(el: HTMLElement): void {
  const { cardDay, pendingDay, pendingUnsent } = el.dataset;
  if (cardDay === undefined && !pendingDay) return; // neither known yet: keep the placeholder
  if (pendingDay && (!cardDay || pendingDay > cardDay)) {
    if (pendingUnsent) {
      // Two parts that each keep to a line (style.css `.dates dd > span`): at 360 px 「（待上传）」 moves below the day
      // whole, where it broke as 「2026-12-01（待上」/「传）」. The English part's leading space stays between them.
      const said = t('card.pendingUpload');
      const tag = said.trimStart();
      el.replaceChildren(h('span', {}, pendingDay), said.slice(0, said.length - tag.length), h('span', {}, tag));
    } else {
      el.textContent = pendingDay;
    }
    el.dataset.pending = pendingUnsent ? 'unsent' : 'sent';
    showDay(el, pendingDay);
  } else {
    el.textContent = day(cardDay || null);
    delete el.dataset.pending;
    showDay(el, cardDay || null);
  }
}

/** The card's list badge: the published list with its month (「2026年11月 红榜」), or the list alone. */
export function listLabel(list: 'red' | 'black', month: string | null): string {
  const name = t(list === 'red' ? 'card.list.red' : 'card.list.black');
  const found = month ? /^(\d{4})-(\d{2})$/.exec(month) : null;
  if (!found) return name;
  const [year, number] = [Number(found[1]), Number(found[2])];
  // 「2026年11月」 in Chinese, "November 2026" in English.
  const shown = getLang() === 'en' ? new Intl.DateTimeFormat('en', { month: 'long', timeZone: 'UTC' }).format(Date.UTC(year, number - 1, 1)) : number;
  return t('card.listMonth', { list: name, year, month: shown });
}

function fillCard(el: HTMLElement, card: Card | null, fresh: boolean, score: ShownScore): void {
  const { points, rank, of, list, listMonth } = score;
  const q = (sel: string): HTMLElement => el.querySelector<HTMLElement>(sel) ?? h('span');
  if (card?.name) q('[data-shop-name]').textContent = card.name;
  if (card?.address) q('[data-address]').textContent = card.address;
  q('[data-score]').textContent = points === null ? '—' : String(points);
  q('[data-rank]').textContent = rank === null ? '—' : String(rank);
  q('[data-of]').textContent = of === null ? '' : t('shop.rankOf', { of });
  const badge = q('[data-list]');
  badge.hidden = !list;
  if (list) {
    badge.dataset.list = list;
    badge.className = `badge ${list}`;
    badge.dataset.listMonth = listMonth ?? '';
    badge.textContent = listLabel(list, listMonth);
  }
  const selfCheck = q('[data-last-self-check]');
  selfCheck.dataset.cardDay = card?.last_self_check ?? '';
  showLastSelfCheck(selfCheck);
  const patrol = q('[data-last-patrol]');
  patrol.textContent = day(card?.last_patrol ?? null);
  showDay(patrol, card?.last_patrol ?? null);
  q('.card-note').textContent = fresh ? '' : savedNote(card?.fetched_at ?? card?.saved_at);
}

/** The offline card's note, with when this phone fetched it (「2026-12-02 15:58」, the district's time), so a reader
 *  knows how old its days are (a newer score synced since moves `saved_at`, not this: ./card `rememberScore`). */
function savedNote(savedAt: string | undefined): string {
  const ms = savedAt ? Date.parse(savedAt) : NaN;
  if (!Number.isFinite(ms)) return t('card.offline');
  return t('card.offlineSaved', { at: shanghaiIso(ms).slice(0, 16).replace('T', ' ') });
}

function field(label: string, input: HTMLInputElement): HTMLElement {
  return h('label', { class: 'field' }, h('span', {}, label), input);
}

function errorLine(): HTMLElement {
  return h('p', { class: 'error', role: 'alert', hidden: true });
}

// The reasons server/accounts.py (and server/api/auth.py) give for a refused sign-in or activation, in our words.
const REASONS: Record<string, MessageKey> = {
  'Wrong shop code or PIN.': 'auth.wrongPin',
  'Wrong or expired activation code.': 'auth.wrongCode',
  'Wrong username or password.': 'auth.wrongPassword',
  "This shop's account is disabled: ask the safety office.": 'auth.disabled',
  'This account no longer exists.': 'auth.gone',
};

function waitWords(seconds: number): string {
  return seconds < 60 ? t('auth.seconds', { n: seconds }) : t('auth.minutes', { n: Math.ceil(seconds / 60) });
}

/** Why the server refused, in the screen's language: its known reasons translated, any other in the screen's part of
 *  it (`reasonIn`: the server writes them Chinese first, then English after the last 。). */
export function authReason(err: ApiError): string {
  const reason = err.reason.trim();
  if (err.status === 429 || err.error === 'too_many_requests') {
    const seconds = /(\d+)\s*s\b/.exec(reason);
    return t('auth.throttled', { wait: waitWords(seconds ? Number(seconds[1]) : 60) });
  }
  if (reason.includes('本店已停业')) return t('auth.shopClosed'); // server/accounts.py SHOP_CLOSED
  const known = REASONS[reason];
  if (known) return t(known);
  if (err.status === 400 && reason.startsWith('pin: too easy')) return t('owner.pinWeak');
  if (err.status === 400 && reason.startsWith('pin:')) return t('owner.pinDigits');
  if (err.status === 404 && /(?:^|。)No shop /.test(reason)) return t('auth.noShop');
  return reasonIn(reason) || err.error || `HTTP ${err.status}`;
}

/** The line shown when signing in (or activating: 激活失败, not 登录失败) did not work. */
export function authMessage(err: unknown, activating = false): string {
  if (err instanceof ApiError) return t(activating ? 'owner.activateFailed' : 'login.failed', { reason: authReason(err) });
  if (!navigator.onLine) return t('login.offline');
  return err instanceof Error ? err.message : String(err);
}

/** Whether a refused owner sign-in calls for a new activation code: a wrong PIN, or locked out after too many. */
export function pinForgotten(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 401 || err.status === 429 || err.error === 'too_many_requests');
}

function showError(el: HTMLElement, err: unknown, activating = false): void {
  el.hidden = false;
  el.textContent = authMessage(err, activating);
}

function say(el: HTMLElement, text: string): void {
  el.hidden = false;
  el.textContent = text;
}

/** What the public card API says of `code`: a card, a closed shop, no shop, or nothing (offline). */
export async function cardState(code: string): Promise<'found' | Absent | 'offline'> {
  const { card, fresh, absent } = await loadCard(code);
  return absent ?? (fresh && card ? 'found' : 'offline');
}

/**
 * The registered spelling of a typed or linked shop code: trimmed; as given when the server knows it (or cannot
 * be asked), else its upper-case form when that one is a shop (s0001 typed for S0001). Codes are not upper-cased
 * at registration (server/models/common.py PARTITION allows lower case), so the exact code is tried first.
 */
export async function resolveShopCode(raw: string): Promise<string> {
  const [code = '', upper] = codeCandidates(raw);
  if (upper === undefined || (await cardState(code)) !== 'missing') return code;
  const other = await cardState(upper);
  return other === 'found' || other === 'closed' ? upper : code;
}

/** A PIN field: digits only, six of them (server/accounts.py check_pin), checked here with our own message. */
function pinInput(name: string, autocomplete: string): HTMLInputElement {
  return h('input', { name, type: 'password', inputmode: 'numeric', autocomplete, maxlength: '6', required: true });
}

const PIN = /^\d{6}$/;
const ACTIVATION_CODE = /^\d{8}$/; // server/accounts.py `issue_activation`
// The PINs a stranger tries first, refused as a new PIN (server/accounts.py `weak_pin`, which has the last word).
const COMMON_PINS = new Set(['123123', '112233', '121212', '101010', '520520', '521521', '147258', '159357', '789456']);

/** Whether a new PIN is one digit repeated, digits in a row (123456, 654321) or a common one. */
export function weakPin(pin: string): boolean {
  const steps = new Set([...pin].slice(1).map((d, i) => Number(d) - Number(pin[i])));
  return (steps.size === 1 && [...steps].every((s) => Math.abs(s) <= 1)) || COMMON_PINS.has(pin);
}

/** Sign in to `account` (`owner:{shop}` or `staff:{username}`), with this phone's key for it when it has one. */
async function postAuth(path: string, body: Record<string, string>, account: string): Promise<void> {
  const key = deviceKeyFor(account);
  let res: Response;
  try {
    res = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(key ? { ...body, device_key: key } : body),
    });
  } catch {
    throw new Error(t('login.offline'));
  }
  const answer = (await res.json().catch(() => ({}))) as {
    token?: string;
    user?: { id: string; role: string; name?: string; shop?: string; subdistrict?: string | null };
    device_key?: string;
    reason?: string;
    error?: string;
  };
  if (!res.ok || !answer.token || !answer.user) {
    throw new ApiError(res.status, answer.error ?? 'error', answer.reason ?? res.statusText);
  }
  // Nothing of an office session stays on the computer (offices share them): no key for the office either.
  if (answer.device_key && answer.user.role !== 'office') rememberDeviceKey(account, answer.device_key);
  signIn({ token: answer.token, user: answer.user });
}

/** The owner's PIN sign-in and the first-time activation (code from the grid worker + a new PIN). */
function ownerSignIn(shop: string | null): HTMLElement {
  const shopInput = h('input', { name: 'shop', autocomplete: 'username', required: true, maxlength: '32' });
  if (shop) shopInput.value = shop;
  const pin = pinInput('pin', 'current-password');
  // Room for an activation code (8 digits), which a first-time owner types in the only field they see: cut to 6
  // digits it was sent as a wrong PIN, and five such tries locked the shop's sign-in for 15 minutes.
  pin.maxLength = 16;
  const err = errorLine();
  // A wrong PIN, or too many: the way forward is a new activation code from the grid worker, which sets a new PIN.
  const useCode = h('button', { type: 'button', class: 'link', 'data-action': 'use-code' }, t('owner.useCode'));
  const help = h('p', { class: 'muted pin-help', 'data-pin-help': '', hidden: true }, t('owner.pinHelp'), ' ', useCode);
  const button = h('button', { type: 'submit', class: 'primary' }, t('owner.login'));
  const form = h(
    'form',
    { class: 'form owner-login', 'data-form': 'owner-login' },
    shop ? null : field(t('login.shop'), shopInput),
    field(t('owner.pinLabel'), pin),
    err,
    help,
    button,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    err.hidden = true;
    help.hidden = true;
    if (ACTIVATION_CODE.test(pin.value.trim())) {
      // The grid worker's activation code, not a PIN: it goes where it activates the shop, with a new PIN to set.
      [code.value, pin.value] = [pin.value.trim(), ''];
      activation.open = true;
      say(actErr, t('owner.codeInPin'));
      newPin.focus();
      return;
    }
    if (!PIN.test(pin.value)) {
      say(err, t('owner.pinDigits'));
      pin.focus();
      return;
    }
    button.disabled = true;
    void resolveShopCode(shop ?? shopInput.value)
      .then((code) => postAuth('/api/auth/owner', { shop: code, pin: pin.value }, `owner:${code}`).then(() => navigate(shopPath(code), true)))
      .catch((e: unknown) => {
        showError(err, e);
        help.hidden = !pinForgotten(e);
      })
      .finally(() => (button.disabled = false));
  });

  const actShop = h('input', { name: 'activation_shop', required: true, maxlength: '32' });
  if (shop) actShop.value = shop;
  const code = h('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, maxlength: '16' });
  const newPin = pinInput('new_pin', 'new-password');
  const confirmPin = pinInput('confirm_pin', 'new-password');
  const actErr = errorLine();
  const actButton = h('button', { type: 'submit' }, t('owner.activate'));
  const activate = h(
    'form',
    { class: 'form activate', 'data-form': 'activate' },
    h('p', { class: 'muted' }, t('owner.activateHint')),
    shop ? null : field(t('login.shop'), actShop),
    field(t('owner.code'), code),
    field(t('owner.newPin'), newPin),
    field(t('owner.confirmPin'), confirmPin),
    actErr,
    actButton,
  );
  activate.addEventListener('submit', (event) => {
    event.preventDefault();
    // A typo in a PIN typed once would lock the owner out until the grid worker brings a new code.
    actErr.hidden = true;
    if (!PIN.test(newPin.value)) {
      say(actErr, t('owner.pinDigits'));
      newPin.focus();
      return;
    }
    if (weakPin(newPin.value)) {
      say(actErr, t('owner.pinWeak'));
      newPin.focus();
      return;
    }
    if (confirmPin.value !== newPin.value) {
      say(actErr, t('owner.pinMismatch'));
      confirmPin.value = '';
      confirmPin.focus();
      return;
    }
    actButton.disabled = true;
    void resolveShopCode(shop ?? actShop.value)
      .then((s) =>
        postAuth('/api/auth/activate', { shop: s, code: code.value.trim(), pin: newPin.value }, `owner:${s}`).then(() =>
          navigate(shopPath(s), true),
        ),
      )
      .catch((e: unknown) => showError(actErr, e, true))
      .finally(() => (actButton.disabled = false));
  });
  const activation = h('details', { class: 'activation' }, h('summary', {}, t('owner.activateTitle')), activate);
  useCode.addEventListener('click', () => {
    activation.open = true;
    code.focus();
  });
  return h('div', { class: 'owner-signin' }, h('h2', {}, t('login.owner')), form, activation);
}

function shopView(code: string, lookup: ScoreLookup, mountOwner: OwnerMount): View {
  const session = currentSession();
  const isOwner = session?.user.role === 'owner' && session.shop === code;
  const cardEl = h(
    'article',
    { class: 'public-card', 'data-card': code },
    h('h1', { 'data-shop-name': '' }, code),
    h('p', { class: 'muted', 'data-address': '' }),
    h('span', { class: 'badge', 'data-list': '', hidden: true }),
    h(
      'dl',
      { class: 'scoreboard' },
      h('div', {}, h('dt', {}, t('shop.score')), h('dd', { class: 'figure', 'data-score': '' }, '—')),
      h(
        'div',
        {},
        h('dt', {}, t('shop.rank')),
        h('dd', { class: 'figure', 'data-rank': '' }, '—'),
        h('dd', { class: 'of', 'data-of': '' }),
      ),
    ),
    h(
      'dl',
      { class: 'dates' },
      h('div', {}, h('dt', {}, t('card.lastSelfCheck')), h('dd', { 'data-last-self-check': '' }, '…'), h('dd', { class: 'ago', 'data-ago': '' })),
      h('div', {}, h('dt', {}, t('card.lastPatrol')), h('dd', { 'data-last-patrol': '' }, '…'), h('dd', { class: 'ago', 'data-ago': '' })),
    ),
    h('p', { class: 'muted card-note', role: 'status' }),
    h('p', { class: 'shop-code muted' }, `${t('shop.code')} ${code}`),
  );
  const below = h('div', { class: 'below-card' });
  /** No card for this code (a closed shop, or none): say so, without the dashes of a card to fill in, and without
   *  the ways in (owner sign-in, activation, patrol) a fake poster would offer. A signed-in owner keeps their home.
   *  Offline with no card saved (`unavailable`): the code, and why nothing else shows, never 暂无 for days unknown. */
  const absent = (why: Absent | 'unavailable'): void => {
    cardEl.dataset.cardState = why;
    const q = (sel: string): HTMLElement => cardEl.querySelector<HTMLElement>(sel) ?? h('span');
    q('[data-shop-name]').textContent = why === 'unavailable' ? code : t(why === 'closed' ? 'card.closed' : 'card.unknown');
    q('[data-address]').textContent = '';
    for (const sel of ['.scoreboard', '.dates', '[data-list]']) q(sel).hidden = true;
    q('.card-note').textContent = t(why === 'unavailable' ? 'card.offlineNone' : why === 'closed' ? 'card.closedHint' : 'card.unknownHint');
    if (!isOwner && why !== 'unavailable') below.hidden = true;
  };
  const present = (): void => {
    if (!cardEl.dataset.cardState) return;
    delete cardEl.dataset.cardState;
    for (const sel of ['.scoreboard', '.dates']) cardEl.querySelector<HTMLElement>(sel)?.removeAttribute('hidden');
    below.hidden = false;
  };
  let drawn = 0;
  /** Draw the card; again (`scoreChanged`) when the phone's `{code}:score` document changed under it. */
  const drawCard = (scoreChanged: boolean): void => {
    const token = ++drawn;
    void Promise.all([loadCard(code), lookup(code)]).then(async ([{ card, fresh, absent: why }, local]) => {
      if (token !== drawn) return; // a later draw is on its way
      if (why) {
        // Closed, or no such code: then maybe the same code in upper case (s0001 for S0001, typed or linked).
        const upper = code.toUpperCase();
        const other = why === 'missing' && upper !== code ? await cardState(upper) : null;
        if (token !== drawn || !cardEl.isConnected) return;
        if (other === 'found' || other === 'closed') navigate(shopPath(upper), true);
        else absent(why);
        return;
      }
      if (!card && !fresh && !local) {
        absent('unavailable');
        return;
      }
      present();
      // The document just changed: offline (the card could not be fetched again) it is the newest there is.
      const score = chooseScore(card, fresh, local, scoreChanged);
      if (scoreChanged && !fresh) rememberScore(code, score);
      fillCard(cardEl, card, fresh, score);
      // The shop's name in the title: WeChat's browser, which most scans open in, shows it as the page's heading.
      if (card?.name && cardEl.isConnected) document.title = `${card.name} · ${t('app.name')}`;
    });
  };
  drawCard(false);

  if (isOwner) mountOwner(code, below, () => drawCard(true));
  else if (session?.user.role === 'grid') {
    below.append(
      h('nav', { class: 'actions' }, h('a', { class: 'button primary', href: `/grid/s/${encodeURIComponent(code)}` }, t('shop.patrol'))),
    );
  } else {
    below.append(
      ownerSignIn(code),
      h('nav', { class: 'actions' }, h('a', { class: 'button', href: loginPath('grid', code) }, t('shop.gridLogin'))),
    );
  }
  return {
    title: `${code} · ${t('app.name')}`,
    node: h('section', { class: 'page shop', 'data-shop': code }, cardEl, below),
  };
}

/** Staff sign-in (grid worker → /grid, office → /office), or the owner's shop code + PIN. */
function loginView(role: LoginRole | null, shop: string | null): View {
  const title = role === 'grid' ? t('login.grid') : role === 'office' ? t('login.office') : t('login.title');
  let body: HTMLElement;
  if (role === 'grid' || role === 'office') {
    const username = h('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'off' });
    const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const err = errorLine();
    const button = h('button', { type: 'submit', class: 'primary' }, t('login.submit'));
    body = h('form', { class: 'form staff-login', 'data-form': 'login' }, field(t('login.username'), username), field(t('login.password'), password), err, button);
    body.addEventListener('submit', (event) => {
      event.preventDefault();
      button.disabled = true;
      const name = username.value.trim();
      postAuth('/api/auth/login', { username: name, password: password.value }, `staff:${name}`)
        .then(() => {
          const who = currentSession()?.user.role;
          const next = who === 'office' ? '/office' : who === 'grid' ? (shop ? `/grid/s/${encodeURIComponent(shop)}` : '/grid') : '/';
          navigate(next, true);
        })
        .catch((e: unknown) => showError(err, e))
        .finally(() => (button.disabled = false));
    });
  } else {
    body = ownerSignIn(shop);
  }
  const others: [LoginRole, string][] = [
    ['owner', t('login.owner')],
    ['grid', t('login.grid')],
    ['office', t('login.office')],
  ];
  return {
    title: `${title} · ${t('app.name')}`,
    node: h(
      'section',
      { class: 'page login' },
      h('h1', {}, title),
      shop && h('p', { class: 'shop-code' }, `${t('shop.code')} `, h('strong', {}, shop)),
      body,
      h(
        'nav',
        { class: 'actions small' },
        ...others
          .filter(([r]) => r !== (role ?? 'owner'))
          .map(([r, label]) => h('a', { class: 'button', href: loginPath(r, shop ?? undefined) }, label)),
      ),
    ),
  };
}

/** An unknown path; `/s/{code}` with a shop code no shop can have (a torn or fake QR code, a mistyped link: bad
 *  characters, too long), which says so as an unknown shop's card does rather than 页面不存在. */
function notFoundView(path: string): View {
  const shop = /^\/s\/[^/]+\/?$/.test(path);
  const title = t(shop ? 'card.unknown' : 'notFound.title');
  return {
    title: `${title} · ${t('app.name')}`,
    node: h(
      'section',
      { class: 'page not-found' },
      h('h1', {}, title),
      shop && h('p', { class: 'muted' }, t('card.unknownHint')),
      h('nav', { class: 'actions' }, h('a', { class: 'button primary', href: '/' }, t('notFound.back'))),
    ),
  };
}

export function view(route: Route, lookup: ScoreLookup, mountOwner: OwnerMount): View {
  switch (route.name) {
    case 'home':
      return homeView();
    case 'shop':
      return shopView(route.code, lookup, mountOwner);
    case 'login':
      return loginView(route.role, route.shop);
    case 'notFound':
      return notFoundView(route.path);
    case 'check':
    case 'rectify':
    case 'grid':
    case 'office':
      throw new Error(`${route.name} screens are rendered by their own module`);
  }
}

