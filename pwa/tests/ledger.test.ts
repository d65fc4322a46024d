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
  /** The documents each `changes` read handed back (PouchDB reads each one from IndexedDB). */
  read: number[] = [];
  async changes({ since }: { since: number }) {
    this.read.push(this.docs.filter((_, i) => i + 1 > since).length);
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

  it('reads only the changes since it last counted, however far behind the server is', async () => {
    // A first download writes thousands of pulled documents past the acknowledged sequence, and the count runs
    // again after each batch: reading them all each time made the download quadratic.
    const db = new Changes();
    for (let n = 0; n < 500; n++) db.write(`S1:score:${n}`, 'server');
    db.write('S1:patrol:A');
    const l = ledger(db);
    expect((await l.unacknowledged()).map((d) => d.id)).toEqual(['S1:patrol:A']);
    for (let n = 0; n < 500; n++) db.write(`S2:score:${n}`, 'server');
    db.write('S1:patrol:B');
    db.read = [];
    expect((await l.unacknowledged()).map((d) => d.id)).toEqual(['S1:patrol:A', 'S1:patrol:B']);
    expect(db.read).toEqual([501]); // the new changes only, not the 1,002 since the acknowledged sequence
    // Acknowledged meanwhile: gone from the count, and still not read again.
    l.advance(501);
    db.read = [];
    expect((await l.unacknowledged()).map((d) => d.id)).toEqual(['S1:patrol:B']);
    expect(db.read).toEqual([0]);
  });

  it('asks the server again, each pause longer, when its question was cut off, until it is answered', async () => {
    // The push went idle having sent `a`, but the answer to the ledger's revs_diff was lost: nothing else asks again
    // until the push has something new, and the header said 1 条待上传 for a record the server had.
    const db = new Changes();
    db.write('a');
    const server = new Server();
    server.has.add('a');
    let cut = 2;
    const flaky = {
      revsDiff: (query: Record<string, string[]>) =>
        cut-- > 0 ? Promise.reject(new TypeError('Failed to fetch')) : server.revsDiff(query),
    };
    const l = ledger(db);
    await expect(l.confirm(flaky as unknown as PouchDB.Database)).rejects.toThrow('Failed to fetch');
    const pauses: number[] = [];
    await l.confirmLater(flaky as unknown as PouchDB.Database, () => false, async (ms) => void pauses.push(ms));
    expect(pauses).toEqual([1_000, 2_000]);
    expect(l.seq).toBe(1);
    expect(await l.unacknowledged()).toEqual([]);
  });

  it('stops asking once the sync ends, or a newer question takes over', async () => {
    const db = new Changes();
    db.write('a');
    const down = { revsDiff: () => Promise.reject(new TypeError('Failed to fetch')) };
    const l = ledger(db);
    let ended = false;
    let asked = 0;
    const pause = async () => {
      asked++;
      if (asked === 3) ended = true;
    };
    await l.confirmLater(down as unknown as PouchDB.Database, () => ended, pause);
    expect(asked).toBe(3);
    // A newer call supersedes an older one still pausing: the older ends without asking.
    let release = (): void => undefined;
    const older = l.confirmLater(down as unknown as PouchDB.Database, () => false, () => new Promise<void>((r) => (release = r)));
    const server = new Server();
    server.has.add('a');
    await l.confirmLater(server as unknown as PouchDB.Database, () => false, async () => undefined);
    expect(l.seq).toBe(1);
    release();
    await older; // returns: it would loop forever against `down` otherwise
  });

  it('counts afresh when the checkpoint moves back (a wiped database) or to another database', async () => {
    const db = new Changes();
    db.write('S1:patrol:A');
    db.write('S1:patrol:B');
    const l = ledger(db);
    l.advance(2);
    expect(await l.unacknowledged()).toEqual([]);
    l.seq = 0; // what startSync does when the remembered checkpoint is beyond the database's end
    expect((await l.unacknowledged()).map((d) => d.id)).toEqual(['S1:patrol:A', 'S1:patrol:B']);
    const other = new Changes();
    other.write('S1:photo:C');
    l.moveTo(other as unknown as PouchDB.Database);
    expect((await l.unacknowledged()).map((d) => d.id)).toEqual(['S1:photo:C']);
  });
});

describe('a submission just written', () => {
  it('counts as waiting at once, before the count from the changes', async () => {
    const db = new Changes();
    let counted = 0;
    const l = new PushLedger(db as unknown as PouchDB.Database, 'noted.seq', (d) => d?.device === 'me', () => counted++);
    db.write('S1:self_check:A');
    l.noteWritten(['S1:self_check:A']);
    expect(l.pending).toBe(1); // no await: the header must not say 已同步 for the moment in between
    expect(l.waiting).toEqual(['S1:self_check:A']);
    expect(counted).toBe(1);
    l.noteWritten(['S1:self_check:A']); // noted twice (a retried submit): counted once
    expect(l.pending).toBe(1);
  });

  it('is kept by a count that read the changes before it was written', async () => {
    const db = new Changes();
    const l = ledger(db);
    db.write('S1:self_check:A');
    let release: () => void = () => undefined;
    const read = db.changes.bind(db);
    // The count's read answers what the database held when it began, and only after the write below.
    db.changes = async (options: { since: number }) => {
      const answer = await read(options);
      await new Promise<void>((resolve) => (release = resolve));
      return answer;
    };
    l.recount();
    await new Promise((resolve) => setTimeout(resolve, 200)); // the count has begun its read
    db.write('S1:patrol:B');
    l.noteWritten(['S1:patrol:B']);
    release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(l.waiting.sort()).toEqual(['S1:patrol:B', 'S1:self_check:A']);
    expect(l.pending).toBe(2);
  });
});
