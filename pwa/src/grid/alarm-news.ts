// A new alarm for one of the grid worker's shops, announced on whichever grid screen is open. Alarms reach the phone
// by replication (an owner's self-check with a serious finding, a colleague's patrol); before, the shop list only
// moved that shop to the top, and a worker on another screen saw nothing. Each alarm is announced once on this
// phone (its id kept), and only a recent one: the first download of a year of alarms is not news. Nor is one raised
// by a patrol sent from this phone: its worker submitted it (the form said it would alarm the office), and it came
// back as 新报警, with a buzz, when an offline day's patrols went up.
import { h } from '../dom';
import { followChanges, localDb } from '../db';
import { deviceId, store, storedJson } from '../device';
import { loadAllTemplates } from './data';
import type { AlarmDoc } from './docs';
import { isNews } from './due';
import { joinList } from '../i18n';
import { gt } from './i18n';
import { hazardName } from './ui';

const SEEN_KEY = 'mashang.alarmsAnnounced';
const SEEN_KEPT = 200;

type Show = (alarm: AlarmDoc) => void;
let show: Show | null = null; // the banner of the screen shown now
let watching: (() => void) | null = null;

function watch(): void {
  if (watching) return;
  watching = followChanges((change) => {
    const doc = change.doc as AlarmDoc | undefined;
    if (doc?.type !== 'alarm') return; // a first download writes thousands of documents: most are not alarms
    const seen = new Set(storedJson<string[]>(SEEN_KEY, []));
    if (!isNews(doc, seen, Date.now())) return;
    store(SEEN_KEY, JSON.stringify([...seen, doc._id].slice(-SEEN_KEPT)));
    void raisedHere(doc).then((here) => {
      if (here) return;
      navigator.vibrate?.([200, 100, 200]);
      show?.(doc);
    });
  });
}

/** Whether the check that raised `alarm` was made on this phone (the source is on it with this device's id). */
async function raisedHere(alarm: AlarmDoc): Promise<boolean> {
  try {
    return (await localDb().get<{ device?: string }>(alarm.source)).device === deviceId();
  } catch {
    return false; // not on the phone (an owner's self-check): someone else's
  }
}

/** Stop following the local database (signing out: the database goes with the session). */
export function stopAlarmNews(): void {
  watching?.();
  watching = null;
  show = null;
}

/** The banner for the screen about to be shown: empty (hidden) until a new alarm comes while it is shown. */
export function alarmBanner(): HTMLElement {
  const text = h('span', { 'data-field': 'alarm' });
  const open = h('a', { 'data-action': 'open-shop' }, gt('alarmNews.open'));
  const dismiss = h('button', { type: 'button', class: 'link', 'data-action': 'dismiss' }, gt('alarmNews.dismiss'));
  const banner = h('p', { class: 'g-alarm-news', role: 'alert', hidden: true }, text, ' ', open, ' ', dismiss);
  dismiss.addEventListener('click', () => (banner.hidden = true));
  show = (alarm) => {
    void Promise.all([
      localDb()
        .get<{ name?: string }>(`${alarm.shop}:shop:${alarm.shop}`)
        .catch(() => ({ name: undefined })),
      loadAllTemplates().catch(() => []),
    ]).then(([shop, templates]) => {
      const items = joinList(alarm.items.map((i) => hazardName(templates, i.item)));
      text.textContent = gt('alarmNews.text', { shop: shop.name ?? alarm.shop, items });
      open.setAttribute('href', `/grid/s/${encodeURIComponent(alarm.shop)}`);
      banner.dataset.alarmNews = alarm._id;
      banner.hidden = false;
    });
  };
  watch();
  return banner;
}
