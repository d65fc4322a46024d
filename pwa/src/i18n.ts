// UI wording. Chinese (zh-CN) is first and the default; English follows key for key.
// The `en` dictionary is typed against the Chinese one, so a missing key fails `tsc`.

const zh = {
  'app.name': '码上安全',
  'lang.switch': 'English',
  'lang.switchLabel': '切换到英文',
  'home.title': '扫一扫 安全状况全知道',
  'home.intro': '用手机扫描贴在店铺墙上的二维码，即可查看店铺的安全积分和排名，无需安装应用。',
  'home.ownerLogin': '店主登录',
  'home.gridLogin': '网格员登录',
  'home.weekly': '店主每周自查一次：如实填写、检查并拍照上传。',
  'home.monthly': '网格员每月到店巡查，核实自查记录，录入隐患。',
  'shop.title': '店铺安全档案',
  'shop.code': '店铺编号',
  'shop.score': '安全积分',
  'shop.rank': '排名',
  'shop.rankOf': '共 {of} 家',
  'shop.notLoaded': '本机暂无该店的积分数据',
  'shop.weeklyCheck': '每周自查',
  'shop.patrol': '网格员巡查',
  'shop.ownerLogin': '店主登录',
  'shop.gridLogin': '网格员登录',
  'login.title': '登录',
  'login.owner': '店主登录',
  'login.grid': '网格员登录',
  'login.office': '安监所登录',
  'login.soon': '登录功能即将开放。',
  'notFound.title': '页面不存在',
  'notFound.back': '返回首页',
  'sync.synced': '已同步',
  'sync.pending': '{n} 条待上传',
  'sync.offline': '离线',
  'sync.offlinePending': '离线 · {n} 条待上传',
  'sync.error': '同步出错',
  'update.prompt': '有新版本，点此更新',
} as const;

export type MessageKey = keyof typeof zh;
export type Dictionary = Record<MessageKey, string>;

const en: Dictionary = {
  'app.name': 'Mashang Safety',
  'lang.switch': '中文',
  'lang.switchLabel': 'Switch to Chinese',
  'home.title': 'Scan to see how safe a shop is',
  'home.intro':
    "Scan the QR code on the shop's wall with your phone to see its safety score and rank. No app to install.",
  'home.ownerLogin': 'Shop owner sign-in',
  'home.gridLogin': 'Grid worker sign-in',
  'home.weekly': 'Owners self-inspect every week: answer truthfully, check, photograph, upload.',
  'home.monthly': 'Grid workers patrol every shop each month, verify self-checks and record hazards.',
  'shop.title': 'Shop safety file',
  'shop.code': 'Shop code',
  'shop.score': 'Safety score',
  'shop.rank': 'Rank',
  'shop.rankOf': 'of {of}',
  'shop.notLoaded': 'No score for this shop on this device yet',
  'shop.weeklyCheck': 'Weekly self-check',
  'shop.patrol': 'Grid worker patrol',
  'shop.ownerLogin': 'Shop owner sign-in',
  'shop.gridLogin': 'Grid worker sign-in',
  'login.title': 'Sign in',
  'login.owner': 'Shop owner sign-in',
  'login.grid': 'Grid worker sign-in',
  'login.office': 'Safety office sign-in',
  'login.soon': 'Sign-in is coming soon.',
  'notFound.title': 'Page not found',
  'notFound.back': 'Back to home',
  'sync.synced': 'Synced',
  'sync.pending': '{n} waiting',
  'sync.offline': 'Offline',
  'sync.offlinePending': 'Offline · {n} waiting',
  'sync.error': 'Sync error',
  'update.prompt': 'New version available: tap to update',
};

export const LANGS = ['zh-CN', 'en'] as const;
export type Lang = (typeof LANGS)[number];
export const DEFAULT_LANG: Lang = 'zh-CN';
export const LANG_STORAGE_KEY = 'mashang.lang';

const dictionaries: Record<Lang, Dictionary> = { 'zh-CN': zh, en };

export type Params = Record<string, string | number>;

/** Look a key up in one language and fill `{name}` placeholders. */
export function translate(lang: Lang, key: MessageKey, params?: Params): string {
  const text = dictionaries[lang][key] ?? dictionaries[DEFAULT_LANG][key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (LANGS as readonly string[]).includes(value);
}

/** The stored choice if there is one, else Chinese (the platform's users read Chinese first). */
export function pickLang(stored: string | null): Lang {
  return isLang(stored) ? stored : DEFAULT_LANG;
}

function readStored(): string | null {
  try {
    return globalThis.localStorage?.getItem(LANG_STORAGE_KEY) ?? null;
  } catch {
    return null; // storage disabled (private mode, embedded webview)
  }
}

let current: Lang | null = null;

export function getLang(): Lang {
  if (current === null) current = pickLang(readStored());
  return current;
}

export function setLang(lang: Lang): void {
  current = lang;
  try {
    globalThis.localStorage?.setItem(LANG_STORAGE_KEY, lang);
  } catch {
    // not remembered, still switched for this page
  }
}

/** Translate in the current language. */
export function t(key: MessageKey, params?: Params): string {
  return translate(getLang(), key, params);
}
