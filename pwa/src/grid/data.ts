// Reads for the grid screens, from the local database only (so they work offline): the shops in scope,
// one shop's e-file, the checklist template and the rules. Writes go through ../events (appendEvent).
import { localDb } from '../db';
import type { Doc, HazardDoc, RulesDoc, ShopDoc, TemplateDoc } from './docs';
import { groupByShop, type ShopFile } from './due';

// Types the shop list needs; pulled photos and ledger entries are left out of the big read.
const LIST_TYPES = new Set(['shop', 'score', 'self_check', 'patrol', 'hazard', 'alarm']);

function docsOf(rows: { doc?: unknown }[]): Doc[] {
  return rows.flatMap((r) => {
    const doc = r.doc as Doc | undefined;
    return doc && typeof doc.type === 'string' && !doc._id.startsWith('_') ? [doc] : [];
  });
}

/** Every shop file on this device (one read of the whole local database, a grid worker's scope). */
export async function loadShopFiles(): Promise<Map<string, ShopFile>> {
  const res = await localDb().allDocs({ include_docs: true });
  return groupByShop(docsOf(res.rows).filter((d) => LIST_TYPES.has(d.type)));
}

/** One shop's e-file: a range read of its partition (`S0001:` … `S0001:\ufff0`). */
export async function loadShopFile(code: string): Promise<ShopFile | null> {
  const res = await localDb().allDocs({ startkey: `${code}:`, endkey: `${code}:\ufff0`, include_docs: true });
  return groupByShop(docsOf(res.rows)).get(code) ?? null;
}

export async function loadShop(code: string): Promise<ShopDoc | null> {
  try {
    return await localDb().get<ShopDoc>(`${code}:shop:${code}`);
  } catch {
    return null;
  }
}

/** The current template for a shop category (the office's default `fire-gas` covers every category). */
export async function loadTemplate(category: string): Promise<TemplateDoc | null> {
  const res = await localDb().allDocs({
    startkey: 'district:template:',
    endkey: 'district:template:\ufff0',
    include_docs: true,
  });
  const current = docsOf(res.rows).filter(
    (d): d is TemplateDoc => d.type === 'template' && !/:v\d+$/.test(d._id),
  );
  const fits = current.filter((t) => t.categories.includes('*') || t.categories.includes(category));
  return fits.find((t) => t._id === 'district:template:fire-gas') ?? fits[0] ?? null;
}

/** The frozen copy of the template version a check was filled with, else the current one. */
export async function loadTemplateVersion(id: string, version: number): Promise<TemplateDoc | null> {
  for (const docId of [`${id}:v${version}`, id]) {
    try {
      const doc = await localDb().get<TemplateDoc>(docId);
      if (doc.version === version) return doc;
    } catch {
      // not here
    }
  }
  return null;
}

export async function loadRules(): Promise<RulesDoc | null> {
  try {
    return await localDb().get<RulesDoc>('district:rules');
  } catch {
    return null;
  }
}

export async function loadHazard(id: string): Promise<HazardDoc | null> {
  try {
    return await localDb().get<HazardDoc>(id);
  } catch {
    return null;
  }
}

let current: PouchDB.Core.Changes<object> | null = null;

/**
 * Call `onChange` (debounced) on every change of the local database while `node` is on the page. One grid
 * screen shows at a time, so a new screen's listener replaces the last one.
 */
export function whileShown(node: HTMLElement, onChange: () => void, delayMs = 300): void {
  current?.cancel();
  let timer: ReturnType<typeof setTimeout> | null = null;
  const feed = localDb()
    .changes({ since: 'now', live: true })
    .on('change', () => {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        if (node.isConnected) onChange();
        else feed.cancel();
      }, delayMs);
    });
  current = feed;
}
