// Numbers as the office reads them: rates as percentages, changes against last year, times in Asia/Shanghai.
import { getLang } from '../i18n';
import { ot } from './i18n';

export function isNum(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** A share 0..1 as a percentage with one decimal ("87.5%"); '—' when unknown. */
export function pct(value: unknown): string {
  return isNum(value) ? `${(Math.round(value * 1000) / 10).toFixed(1)}%` : '—';
}

export function num(value: unknown): string {
  return isNum(value) ? value.toLocaleString(getLang()) : '—';
}

/** A shop's rank as the office's list and e-file show it, by its `status`: 12, or 12 / 300 given `of`; '—' for
 *  none. A closed shop is not ranked (the ranking is of the sub-district's active shops): 已停业，不参与排名, never a
 *  rank of before that its score may still hold. */
export function rankShown(status: unknown, rank: unknown, of?: unknown): string {
  if (status === 'closed') return ot('efile.notRanked');
  if (!isNum(rank) || rank <= 0) return '—';
  return isNum(of) ? `${num(rank)} / ${num(of)}` : num(rank);
}

export type Kind = 'rate' | 'count';

/** How a figure changed against last year: relative for counts ("+40%"); for rates in percentage points and,
 * when last year's rate was not zero, relative too ("+30.0 pt (+50%)", the seed's "patrol rate +50%"). */
export function change(now: unknown, before: unknown, kind: Kind): { text: string; sign: -1 | 0 | 1 } | null {
  if (!isNum(now) || !isNum(before)) return null;
  if (kind === 'rate') {
    const diff = Math.round((now - before) * 1000) / 10;
    const rel = before > 0 ? Math.round(((now - before) / before) * 100) : null;
    const relative = rel === null ? '' : ` (${rel > 0 ? '+' : ''}${rel}%)`;
    return { text: `${diff > 0 ? '+' : ''}${diff.toFixed(1)} pt${relative}`, sign: diff > 0 ? 1 : diff < 0 ? -1 : 0 };
  }
  if (before === 0) return now === 0 ? { text: '±0', sign: 0 } : null;
  const rel = Math.round(((now - before) / before) * 100);
  return { text: `${rel > 0 ? '+' : ''}${rel}%`, sign: rel > 0 ? 1 : rel < 0 ? -1 : 0 };
}

const SHANGHAI_TIME = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** An ISO time as a date and time in Asia/Shanghai ("2026-11-28 09:30"), the district's time in which days, weeks
 *  and the reports are counted, whatever time zone the office's computer is set to. */
export function when(iso: unknown): string {
  if (typeof iso !== 'string' || iso === '') return '—';
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso; // a day is a day, not its midnight in UTC
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const parts = SHANGHAI_TIME.formatToParts(d);
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

/** The current month in Asia/Shanghai as YYYY-MM. */
export function thisMonth(now: Date = new Date()): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' })
    .formatToParts(now);
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}`;
}
