// The push sends what this user or device wrote, never the documents it pulled from the server.
import { describe, expect, it, vi } from 'vitest';

vi.mock('pouchdb-browser', () => ({ default: class {} }));

describe('pushable', () => {
  it("sends this user's and this device's events, not the server's projections nor colleagues' events", async () => {
    const { pushable } = await import('../src/db');
    const user = 'grid:zhou';
    const device = 'd-zhou';
    expect(pushable({ created_by: 'grid:zhou', device: 'd-zhou' }, user, device)).toBe(true);
    expect(pushable({ created_by: 'grid:zhou', device: 'd-other' }, user, device)).toBe(true); // the same user's other phone
    expect(pushable({ created_by: 'owner:S0014', device: 'd-owner' }, user, device)).toBe(false); // the owner's check
    expect(pushable({ created_by: 'grid:li', device: 'd-li' }, user, device)).toBe(false); // a colleague's old patrol
    expect(pushable({}, user, device)).toBe(false); // a ledger entry, a score, a hazard: the server's
    expect(pushable({ created_by: 'grid:zhou' }, '', device)).toBe(false); // no user known: this device's only
    expect(pushable({ device: 'd-zhou' }, '', device)).toBe(true);
  });
});
