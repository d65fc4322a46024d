// Which photos databases retire and which are destroyed: a photo the server has stays on the phone 30 days.
import { describe, expect, it } from 'vitest';
import { dueToRetire, expired, KEEP_PHOTO_DAYS, photoTime, retire, RETIRE_AFTER_DAYS } from '../src/photo-retention';
import { newUlid } from '../src/ulid';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 29, 4, 0, 0);
const photo = (daysAgo: number): string => `S0001:photo:${newUlid(NOW - daysAgo * DAY)}`;

describe('photo retention', () => {
  it('reads when a photo was taken from its id', () => {
    expect(photoTime(photo(3))).toBe(NOW - 3 * DAY);
    expect(photoTime('S0001:self_check:01JDX000000000000000000000')).toBeNull();
    expect(photoTime('_design/x')).toBeNull();
  });

  it('retires the current database once its oldest photo is a week old and nothing waits', () => {
    const ids = [photo(RETIRE_AFTER_DAYS + 1), photo(1)];
    expect(dueToRetire(ids, 0, NOW)).toBe(true);
    expect(dueToRetire(ids, 1, NOW)).toBe(false); // a photo still waits for the server: never
    expect(dueToRetire([photo(RETIRE_AFTER_DAYS - 1), photo(0)], 0, NOW)).toBe(false);
    expect(dueToRetire([], 0, NOW)).toBe(false);
  });

  it('destroys a retired database only when its newest photo is 30 days old', () => {
    const old = retire('mashang-photos', [photo(KEEP_PHOTO_DAYS + 9), photo(KEEP_PHOTO_DAYS + 1)]);
    const recent = retire('mashang-photos-2', [photo(KEEP_PHOTO_DAYS + 9), photo(KEEP_PHOTO_DAYS - 1)]);
    expect(old).toEqual({ name: 'mashang-photos', newest: NOW - (KEEP_PHOTO_DAYS + 1) * DAY, count: 2 });
    expect(expired([old, recent], NOW)).toEqual([old]);
  });

  it('keeps a database holding a refused photo the user has not seen, however old', () => {
    const old = retire('mashang-photos', [photo(KEEP_PHOTO_DAYS + 60)]);
    const other = retire('mashang-photos-2', [photo(KEEP_PHOTO_DAYS + 1)]);
    expect(expired([old, other], NOW, new Set(['mashang-photos']))).toEqual([other]);
  });
});
