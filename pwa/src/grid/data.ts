// Reads for the grid screens, from the local database only (so they work offline): the shops in scope,
// one shop's e-file, the checklist template and the rules. Writes go through ../events (appendEvent).
import { localDb } from '../db';
import { apiFetch } from '../session';
import type { Doc, RulesVersion, ShopDoc, TemplateDoc } from './docs';
import { groupByShop, type ShopFile } from './due';
import { ShopFileCache } from './shop-files';
import type { District } from './rules';

// Types the shop list needs (the second part of `{shop}:{type}:{key}`, or `{shop}:score`); fixes and verdicts too,
// since one written offline changes what a shop still waits for (../due pendingVerdict).
const LIST_TYPES = new Set(['shop', 'score', 'self_check', 'patrol', 'hazard', 'alarm', 'rectification', 'verification']);

function docsOf(rows: { doc?: unknown }[]): Doc[] {
  return rows.flatMap((r) => {
    const doc = r.doc as Doc | undefined;
    return doc && typeof doc.type === 'string' && !doc._id.startsWith('_') ? [doc] : [];
  });
}

let files: ShopFileCache | null = null;

/** Every shop file on this device: read once, then kept up to date from the changes since (./shop-files), so the list
 *  redraws on each batch of a first download, or on coming back from a shop, without reading every document again.
 *  A new local database (another user signed in) starts a new cache. */
export async function loadShopFiles(): Promise<Map<string, ShopFile>> {
  const db = localDb();
  if (files?.source !== db) files = new ShopFileCache(db, LIST_TYPES);
  return files.read();
}

/** The database's sequence the shop files `loadShopFiles` answered last are true at (null before the first read). */
export function shopFilesAt(): number | string | null {
  return files?.source === localDb() ? files.at : null;
}

/** The shops with a change the list reads after `seq`, and the sequence that read reached. */
export async function shopsChangedSince(seq: number | string): Promise<{ shops: Set<string>; seq: number | string }> {
  const res = await localDb().changes({ since: seq });
  const shops = new Set<string>();
  for (const change of res.results) {
    const [shop, type] = change.id.split(':');
    if (shop && type && LIST_TYPES.has(type)) shops.add(shop);
  }
  return { shops, seq: res.last_seq };
}

/** The documents of these types on this device: the ids first, then only those documents. */
async function docsOfTypes(types: ReadonlySet<string>): Promise<Doc[]> {
  const ids = await localDb().allDocs();
  const keys = ids.rows.map((r) => r.id).filter((id) => types.has(id.split(':')[1] ?? ''));
  const res = await localDb().allDocs({ keys, include_docs: true });
  return docsOf(res.rows as { doc?: unknown }[]).filter((d) => types.has(d.type));
}

/** The server's `_all_docs` rows for `keys`: an id outside this user's scope now (a shop moved to another grid)
 * comes back as missing. What ./scope asks to drop such shops from the list. */
export async function askShops(keys: string[]): Promise<unknown> {
  const res = await apiFetch('/sync/_all_docs', { method: 'POST', json: { keys } });
  return ((await res.json()) as { rows?: unknown }).rows;
}

/** One shop's e-file: a range read of its partition (`S0001:` … `S0001:\ufff0`). */
export async function loadShopFile(code: string): Promise<ShopFile | null> {
  const res = await localDb().allDocs({ startkey: `${code}:`, endkey: `${code}:\ufff0`, include_docs: true });
  return groupByShop(docsOf(res.rows)).get(code) ?? null;
}

/** Every shop document on this device (the worker's shops). */
export async function loadShops(): Promise<ShopDoc[]> {
  return (await docsOfTypes(SHOP_TYPE)) as ShopDoc[];
}

const SHOP_TYPE = new Set(['shop']);

export async function loadShop(code: string): Promise<ShopDoc | null> {
  try {
    return await localDb().get<ShopDoc>(`${code}:shop:${code}`);
  } catch {
    return null;
  }
}

/** The current templates (checklist modules) for a shop category, fire and gas first. */
export async function loadTemplates(category: string): Promise<TemplateDoc[]> {
  const res = await localDb().allDocs({
    startkey: 'district:template:',
    endkey: 'district:template:\ufff0',
    include_docs: true,
  });
  const current = docsOf(res.rows).filter(
    (d): d is TemplateDoc => d.type === 'template' && !/:v\d+$/.test(d._id) && Array.isArray((d as TemplateDoc).items),
  );
  const fits = current.filter((t) => t.categories.includes('*') || t.categories.includes(category));
  const main = 'district:template:fire-gas';
  return fits.sort((a, b) => (a._id === main ? -1 : b._id === main ? 1 : a._id < b._id ? -1 : 1));
}

/** Every template on the device, current and frozen versions, to name the items of old checks. */
export async function loadAllTemplates(): Promise<TemplateDoc[]> {
  const res = await localDb().allDocs({
    startkey: 'district:template:',
    endkey: 'district:template:\ufff0',
    include_docs: true,
  });
  return docsOf(res.rows).filter((d): d is TemplateDoc => d.type === 'template' && Array.isArray((d as TemplateDoc).items));
}

/** Every version of the rules on the phone: the current `district:rules` and the frozen `district:rules:v{n}`
 *  (the `district` partition replicates to every phone); the patrol picks the one in force (`rulesOn`). */
export async function loadRulesVersions(): Promise<RulesVersion[]> {
  const res = await localDb().allDocs({ startkey: 'district:rules', endkey: 'district:rules:\ufff0', include_docs: true });
  return docsOf(res.rows).filter(
    (d): d is RulesVersion => d.type === 'rules' && /^district:rules(:v\d+)?$/.test(d._id),
  );
}

let district: { db: unknown; district: District } | null = null;
let districtRead: Promise<unknown> = Promise.resolve();

/** The rules versions and templates on the phone (`loadRulesVersions`, `loadAllTemplates`), which the list's alarms to
 *  come are worked out by: read again only when one of them changed (their ids and revisions, read first, say so),
 *  since the list asks on every redraw. One read at a time, answered in the order asked: a list's later redraw never
 *  gets an older district than an earlier one. */
export function loadDistrict(): Promise<District> {
  const next = districtRead.then(readDistrict);
  districtRead = next.catch(() => undefined);
  return next;
}

async function readDistrict(): Promise<District> {
  const db = localDb();
  const revs = async (prefix: string): Promise<string[]> => {
    const res = await db.allDocs({ startkey: prefix, endkey: `${prefix}\ufff0` });
    return res.rows.map((r) => `${r.id}@${r.value.rev}`);
  };
  const key = [...(await revs('district:rules')), ...(await revs('district:template:'))].join('\n');
  if (district?.db === db && district.district.key === key) return district.district;
  const [rules, templates] = await Promise.all([loadRulesVersions(), loadAllTemplates()]);
  district = { db, district: { key, rules, templates } };
  return district.district;
}
