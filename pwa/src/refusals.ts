// A document the server refused, as its user reads it in the sync panel: which record (the shop, what, the day) and
// why in their words. The server's own reason (Chinese first, English after the last 。) is kept beside it for support.
import { getLang, reasonIn, t, type MessageKey } from './i18n';
import { ulidTime } from './ulid';

const KINDS: Record<string, MessageKey> = {
  self_check: 'refused.self_check',
  patrol: 'refused.patrol',
  rectification: 'refused.rectification',
  verification: 'refused.verification',
  photo: 'refused.photo',
};

// The server's reasons a phone can meet (server/sync/validate.py), most specific first.
const WHY: [RegExp, MessageKey][] = [
  [/ahead of the server clock/, 'refused.clock'],
  [/more than 90 days old/, 'refused.tooOld'],
  [/not in this account's scope/, 'refused.scope'],
  [/is not known to the server/, 'refused.template'],
  [/may not create|created_by must be/, 'refused.account'],
  [/^_attachments:/, 'refused.photoFile'],
  [/already exists|immutable/, 'refused.exists'],
];

/** `S0024 · 巡查记录 · 12月9日` for `S0024:patrol:01M9…` (the id itself when it is not an event's). */
export function refusedWhat(id: string): string {
  const [shop, kind, key] = id.split(':');
  const label = kind ? KINDS[kind] : undefined;
  if (!shop || !label || !key) return id;
  const at = ulidTime(key);
  const day = Number.isFinite(at) && at > 0
    ? new Date(at).toLocaleDateString(getLang() === 'en' ? 'en-GB' : 'zh-CN', { month: 'long', day: 'numeric', timeZone: 'Asia/Shanghai' })
    : '';
  return [shop, t(label), day].filter(Boolean).join(' · ');
}

/** Why, in the user's words; the server's reason, the part in the screen's language (`reasonIn`: Chinese first, English
 *  after the last 。), when it is none of those it can say. */
export function refusedWhy(reason: string): string {
  const known = WHY.find(([pattern]) => pattern.test(reason));
  return known ? t(known[1]) : t('refused.other', { reason: reasonIn(reason) });
}
