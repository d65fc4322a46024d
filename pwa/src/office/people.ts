// Staff by name where the server names them by id (an alarm's grid worker, who took each of its steps): the office
// and grid accounts, read once per page load and read again after the office adds one.
import { get } from './api';
import { ot } from './i18n';
import { listOf } from './ui';

export type Names = ReadonlyMap<string, string>;

let staff: Promise<Names> | null = null;

export function staffNames(): Promise<Names> {
  // The staff in reach and the district's office: a sub-district's office sees the district's steps on its alarms.
  staff ??= get<{ names?: Record<string, string> }>('/api/office/staff-names')
    .then((answer) => new Map(Object.entries(answer.names ?? {})))
    .catch((err: unknown) => {
      staff = null; // the next screen asks again
      throw err;
    });
  return staff;
}

/** Grid code → the user ids of the grid workers who patrol it (disabled accounts left out). */
export type Crews = ReadonlyMap<string, readonly string[]>;

let crews: Promise<Crews> | null = null;

/** Who patrols each grid, read once per page load: an alarm an owner's self-check raised names no grid worker of
 *  its own, and the desk names the shop's grid's. */
export function gridCrews(): Promise<Crews> {
  crews ??= get<unknown>('/api/office/workers')
    .then((answer) => {
      const out = new Map<string, string[]>();
      for (const worker of listOf<{ user_id: string; disabled?: boolean; grids?: { code: string }[] }>(answer, 'workers')) {
        if (worker.disabled) continue;
        for (const grid of worker.grids ?? []) out.set(grid.code, [...(out.get(grid.code) ?? []), worker.user_id]);
      }
      return out;
    })
    .catch((err: unknown) => {
      crews = null;
      throw err;
    });
  return crews;
}

/** A new account: the next screen that names staff reads them again. */
export function forgetStaffNames(): void {
  staff = null;
  crews = null;
}

/** The name of the account `id` ("grid:zhou01" → 周明); "server" is the system, which raises alarms, and
 *  "owner:S0001" the shop's owner. */
export function personName(names: Names, id: string | null | undefined): string {
  if (!id) return '';
  if (id === 'server') return ot('alarms.bySystem');
  if (id.startsWith('owner:')) return ot('people.owner');
  return names.get(id) ?? id;
}
