// What the owner's screens' tests share: the local database in memory (just the calls the screens make) and an
// owner's session. The tests mock '../src/db' and '../src/session' with these (vi.mock factories import this file).

export const fake = (() => {
  const docs = new Map<string, Record<string, unknown>>();
  const unsent = new Set<string>();
  const db = {
    async get(id: string) {
      const doc = docs.get(id);
      if (!doc) throw Object.assign(new Error('missing'), { status: 404 });
      return doc;
    },
    async allDocs(q: { startkey: string; endkey: string; descending?: boolean; limit?: number }) {
      const [lo, hi] = q.descending ? [q.endkey, q.startkey] : [q.startkey, q.endkey];
      let ids = [...docs.keys()].sort().filter((id) => id >= lo && id <= hi);
      if (q.descending) ids.reverse();
      if (q.limit) ids = ids.slice(0, q.limit);
      return { rows: ids.map((id) => ({ id, key: id, value: { rev: '1-a' }, doc: docs.get(id) })) };
    },
  };
  return { docs, unsent, db, redraw: null as null | (() => void) };
})();

/** '../src/db' for the owner's screens. */
export const ownerDb = {
  localDb: () => fake.db,
  whileShown: (_node: unknown, onChange: () => void) => void (fake.redraw = onChange),
  uploadState: async (ids: string[]) => ({ unsent: new Set(ids.filter((id) => fake.unsent.has(id))), refused: new Set<string>() }),
  // What waits for the server, as 退出登录 counts it (../src/sign-out): the documents not uploaded, no photo.
  pendingCounts: async () => ({ docs: fake.unsent.size, photos: 0 }),
  countPending: async () => fake.unsent.size,
};

/** What '../src/session' answers for the signed-in owner of S0001. */
export const ownerSession = {
  currentSession: () => ({ token: 't', user: { id: 'owner:S0001', role: 'owner', shop: 'S0001' }, shop: 'S0001' }),
  signOut: async () => undefined,
};

/** Before each test: an empty phone (documents, what waits, local storage) and an empty page. */
export function resetOwnerFakes(): void {
  fake.docs.clear();
  fake.unsent.clear();
  localStorage.clear();
  document.body.replaceChildren();
}
