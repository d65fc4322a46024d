// ULIDs (26 characters of Crockford base32: 48 bits of milliseconds, 80 random bits), monotonic per page,
// and the wire format's times (ISO 8601 with the +08:00 offset of Asia/Shanghai).

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

let lastTime = -1;
let lastRandom: number[] = [];

function encodeTime(ms: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

/** A new ULID; ids made in the same millisecond still sort in creation order. */
export function newUlid(now: number = Date.now()): string {
  if (now === lastTime) {
    // increment the 80-bit random part by one (base 32 digits, last first)
    let i = lastRandom.length - 1;
    while (i >= 0 && lastRandom[i] === 31) lastRandom[i--] = 0;
    if (i >= 0) lastRandom[i] = (lastRandom[i] ?? 0) + 1;
  } else {
    lastTime = now;
    lastRandom = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b % 32);
  }
  return encodeTime(now) + lastRandom.map((d) => CROCKFORD[d]).join('');
}

/** The time part of a ULID in milliseconds. */
export function ulidTime(ulid: string): number {
  let ms = 0;
  for (const ch of ulid.slice(0, 10)) ms = ms * 32 + CROCKFORD.indexOf(ch);
  return ms;
}

const SHANGHAI_MS = 8 * 3600 * 1000;

/** `2026-11-28T17:30:05.123+08:00`: the wire format's times carry their offset. */
export function shanghaiIso(ms: number = Date.now()): string {
  return new Date(ms + SHANGHAI_MS).toISOString().replace('Z', '+08:00');
}

/** The calendar day (YYYY-MM-DD) in Asia/Shanghai. */
export function shanghaiDay(ms: number = Date.now()): string {
  return shanghaiIso(ms).slice(0, 10);
}

/** The month `by` months from `month` (`2026-01`, -1 → `2025-12`; `2026-12`, 1 → `2027-01`). */
export function shiftMonth(month: string, by: number): string {
  const [year = 0, number = 1] = month.split('-').map(Number);
  const index = year * 12 + number - 1 + by;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/** The month before `month` (`2026-01` → `2025-12`). */
export function monthBefore(month: string): string {
  return shiftMonth(month, -1);
}

/** The Shanghai day (`YYYY-MM-DD`) of a time written with its offset, as the server and the phones write them
 *  (`2026-11-28T09:30:00+08:00`); a value that is no time keeps its first ten characters. */
export function dayOf(at: string): string {
  const ms = Date.parse(at);
  return Number.isFinite(ms) ? shanghaiDay(ms) : at.slice(0, 10);
}

/** `day` (YYYY-MM-DD) moved by `days` calendar days. */
export function addDays(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** ISO week `YYYY-Www` of a Shanghai day, as the server counts weekly self-checks. */
export function isoWeek(ms: number = Date.now()): string {
  const d = new Date(Date.parse(shanghaiDay(ms) + 'T00:00:00Z'));
  const weekday = (d.getUTCDay() + 6) % 7; // Monday 0
  d.setUTCDate(d.getUTCDate() - weekday + 3); // Thursday of this week
  const year = d.getUTCFullYear();
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const week = 1 + Math.round(((d.getTime() - jan4.getTime()) / 86_400_000 - 3 + ((jan4.getUTCDay() + 6) % 7)) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The Monday (YYYY-MM-DD) of ISO week `week` of `year`: week 1 is the one with 4 January in it. */
export function isoWeekMonday(year: number, week: number): string {
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const monday = addDays(jan4.toISOString().slice(0, 10), -((jan4.getUTCDay() + 6) % 7));
  return addDays(monday, (week - 1) * 7);
}
