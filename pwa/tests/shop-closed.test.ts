// A closed shop's owner (server: 403 `forbidden`, reason 本店已停业，账号已停用): the phone says why, in the sync
// panel and at sign-in, instead of retrying silently (PouchDB takes a 403 as final; a 401 would sign the phone out).
import { describe, expect, it } from 'vitest';
import { translate } from '../src/i18n';
import { deriveStatus, describeSyncError } from '../src/sync-status';

const REASON = '本店已停业，账号已停用。This shop is closed; its account is disabled.';

describe('a closed shop', () => {
  it("shows the server's reason as the sync problem", () => {
    const why = describeSyncError({ status: 403, name: 'forbidden', reason: REASON });
    expect(why).toBe(REASON);
    expect(deriveStatus({ online: true, error: why })).toMatchObject({ state: 'error', problem: REASON, detail: REASON });
  });

  it('shows the reason when signing in is refused', () => {
    expect(translate('zh-CN', 'login.failed', { reason: REASON })).toBe(`登录失败：${REASON}`);
  });
});
