import { afterEach, describe, expect, it, vi } from 'vitest';
import { fitWithin, MAX_SIDE, nextQuality, QUALITIES, shrinkFactor, TARGET_MAX_BYTES } from '../src/photo-size';
import { needsRenewal, tokenClaims } from '../src/session';
import { isoWeek, newUlid, shanghaiDay, shanghaiIso, ulidTime } from '../src/ulid';

// The server's pattern (server/models/common.py ULID): 26 characters of Crockford base32.
const SERVER_ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

describe('photo resizing maths', () => {
  it('fits the longest side within 1600 px, keeping the aspect, never enlarging', () => {
    expect(fitWithin(4000, 3000)).toEqual({ width: 1600, height: 1200 });
    expect(fitWithin(3000, 4000)).toEqual({ width: 1200, height: 1600 });
    expect(fitWithin(1600, 900)).toEqual({ width: 1600, height: 900 });
    expect(fitWithin(800, 600)).toEqual({ width: 800, height: 600 });
    expect(fitWithin(9000, 10)).toEqual({ width: MAX_SIDE, height: 2 });
    expect(fitWithin(10, 9000)).toEqual({ width: 2, height: MAX_SIDE });
  });

  it('steps the JPEG quality down while the file is over ~300 KB, then stops', () => {
    expect(nextQuality(0.85, 200 * 1024)).toBeNull();
    expect(nextQuality(0.85, TARGET_MAX_BYTES)).toBeNull();
    let q: number | null = QUALITIES[0];
    const tried: number[] = [];
    while (q !== null) {
      tried.push(q);
      q = nextQuality(q, 900 * 1024);
    }
    expect(tried).toEqual([...QUALITIES]);
    expect(Math.min(...tried)).toBeGreaterThan(0.3);
  });

  it('shrinks the sides by the square root of the excess, within bounds', () => {
    expect(shrinkFactor(TARGET_MAX_BYTES * 4)).toBeCloseTo(0.5);
    expect(shrinkFactor(TARGET_MAX_BYTES * 1.1)).toBeCloseTo(0.9);
    expect(shrinkFactor(TARGET_MAX_BYTES * 100)).toBe(0.5);
  });
});

describe('ids and times of the wire format', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('makes ULIDs the server accepts, sorted in creation order even within one millisecond', () => {
    const ids = Array.from({ length: 200 }, () => newUlid(1_764_300_000_000));
    for (const id of ids) expect(id).toMatch(SERVER_ULID);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ulidTime(ids[0] ?? '')).toBe(1_764_300_000_000);
    expect(newUlid(1_764_300_000_001) > (ids.at(-1) ?? '')).toBe(true);
  });

  it('writes times with the +08:00 offset and days in Asia/Shanghai', () => {
    const ms = Date.parse('2026-11-28T17:30:05.123Z');
    expect(shanghaiIso(ms)).toBe('2026-11-29T01:30:05.123+08:00');
    expect(Date.parse(shanghaiIso(ms))).toBe(ms);
    expect(shanghaiDay(ms)).toBe('2026-11-29');
  });

  it('turns the day at midnight in Shanghai (16:00 UTC), not at the device\'s midnight', () => {
    expect(shanghaiDay(Date.parse('2026-11-30T15:59:59.999Z'))).toBe('2026-11-30');
    expect(shanghaiDay(Date.parse('2026-11-30T16:00:00.000Z'))).toBe('2026-12-01'); // a new month
    expect(shanghaiDay(Date.parse('2026-12-31T15:59:59.999Z'))).toBe('2026-12-31');
    expect(shanghaiDay(Date.parse('2026-12-31T16:00:00.000Z'))).toBe('2027-01-01'); // a new year
    expect(shanghaiDay(Date.parse('2028-02-28T16:00:00.000Z'))).toBe('2028-02-29');
  });

  it('is today in Shanghai by default, as the office\'s screens ask it (exports, the red/black list\'s follow-ups)', () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-30T15:59:59.999Z') });
    expect(shanghaiDay()).toBe('2026-11-30');
    vi.setSystemTime(new Date('2026-11-30T16:00:00.000Z'));
    expect(shanghaiDay()).toBe('2026-12-01');
  });

  it('agrees with the Asia/Shanghai calendar of Intl, which the office\'s screens used before, around every midnight', () => {
    const intl = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });
    const start = Date.parse('2026-12-25T16:00:00Z');
    for (let day = 0; day < 70; day++) {
      for (const offset of [-60_000, -1, 0, 1, 60_000, 8 * 3600_000]) {
        const ms = start + day * 86_400_000 + offset;
        expect(shanghaiDay(ms)).toBe(intl.format(new Date(ms)));
      }
    }
  });

  it('counts ISO weeks as the server does', () => {
    const at = (iso: string): string => isoWeek(Date.parse(iso));
    expect(at('2026-11-28T12:00:00+08:00')).toBe('2026-W48');
    expect(at('2026-11-30T00:30:00+08:00')).toBe('2026-W49'); // Monday in Shanghai, Sunday in UTC
    expect(at('2021-01-03T12:00:00+08:00')).toBe('2020-W53');
    expect(at('2024-12-30T12:00:00+08:00')).toBe('2025-W01');
  });
});

describe('session tokens', () => {
  const jwt = (claims: object): string => `x.${btoa(JSON.stringify(claims)).replace(/=+$/, '')}.sig`;

  it('reads the claims of a token and renews in the last quarter of its life', () => {
    const iat = 1_700_000_000;
    const exp = iat + 100 * 86400;
    expect(tokenClaims(jwt({ exp, iat }))).toEqual({ exp, iat });
    expect(tokenClaims('not-a-token')).toBeNull();
    expect(needsRenewal({ exp, iat }, (iat + 50 * 86400) * 1000)).toBe(false);
    expect(needsRenewal({ exp, iat }, (iat + 80 * 86400) * 1000)).toBe(true);
    expect(needsRenewal(null, Date.now())).toBe(false);
  });
});
