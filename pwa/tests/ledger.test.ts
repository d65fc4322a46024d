// @vitest-environment happy-dom
// The pending count behind `[data-sync-state]`: a document counts as sent only once the server has it.
import PouchDB from 'pouchdb-browser';
import { beforeEach, describe, expect, it } from 'vitest';
import { PushLedger } from '../src/db';

/** A database with just the calls the ledger makes, over an in-memory changes list (seq = position). */
class Changes {
  docs: { id: string; rev: string; doc: { device?: string } }[] = [];
  write(id: string, device = 'me'): void {
    this.docs.push({ id, rev: `1-${id}`, doc: { device } });
  }
  async changes({ since }: { since: number }) {
    return {
      results: this.docs
        .map((d, i) => ({ id: d.id, seq: i + 1, changes: [{ rev: d.rev }], doc: d.doc }))
        .filter((c) => c.seq > since),
    };
  }
  async info() {
    return { update_seq: this.docs.length };
  }
}

class Server {
  has = new Set<string>();
  async revsDiff(query: Record<string, string[]>) {
    return Object.fromEntries(Object.keys(query).filter((id) => !this.has.has(id)).map((id) => [id, { missing: query[id] }]));
  }
}

function ledger(db: Changes, key = 'test.seq'): PushLedger {
  return new PushLedger(db as unknown as PouchDB.Database, key, (d) => d?.device === 'me', () => undefined);
}

beforeEach(() => localStorage.clear());

describe('pending documents', () => {
  it('counts only this device\'s documents after the acknowledged sequence', async () => {
    const db = new Changes();
    db.write('S1:self_check:A');
    db.write('S1:score', 'server'); // pulled: not ours to send
    db.write('S1:photo:B');
    expect((await ledger(db).unacknowledged()).map((d) => d.id)).toEqual(['S1:self_check:A', 'S1:photo:B']);
  });

  it('moves past what the server has, and stops at the first one it lacks', async () => {
    const db = new Changes();
    const server = new Server();
    for (const id of ['a', 'b', 'c']) db.write(id);
    const l = ledger(db);
    server.has = new Set(['a', 'c']); // c arrived, b did not (yet)
    await l.confirm(server as unknown as PouchDB.Database);
    expect(l.seq).toBe(1);
    expect((await l.unacknowledged()).map((d) => d.id)).toEqual(['b', 'c']);
    server.has.add('b');
    await l.confirm(server as unknown as PouchDB.Database);
    expect(l.seq).toBe(3);
    expect(await l.unacknowledged()).toEqual([]);
  });

  it('skips past pulled documents once nothing of ours waits, and remembers across reloads', async () => {
    const db = new Changes();
    db.write('x', 'server');
    db.write('y', 'server');
    const l = ledger(db, 'persist.seq');
    await l.confirm(new Server() as unknown as PouchDB.Database);
    expect(l.seq).toBe(2);
    expect(ledger(db, 'persist.seq').seq).toBe(2); // a new page reads it back
  });

  it('never counts a refused document as waiting', async () => {
    const db = new Changes();
    db.write('S1:self_check:Z');
    localStorage.setItem('mashang.refused', JSON.stringify([{ id: 'S1:self_check:Z', reason: 'x', at: '', dismissed: true }]));
    expect(await ledger(db).unacknowledged()).toEqual([]);
  });
});
