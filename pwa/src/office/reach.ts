// How far the signed-in office reaches: the whole district, or one sub-district (街道) when its account names one
// (`user.subdistrict` of the sign-in answer). The server holds every list and figure to it and refuses (403) what
// is the district's alone (the rules and checklists, the webhook's log, other sub-districts); the screens follow:
// the layout names the sub-district, the rules are read-only, no choice of another sub-district is offered.
import { currentSession } from '../session';
import { get } from './api';
import { ot } from './i18n';
import { listOf } from './ui';

export interface Subdistrict {
  code: string;
  name: string | null;
  communities?: number; // how many communities it has (none: named, not populated yet)
}

/** The office account's sub-district, or null for the whole district's office. */
export function reachOf(user: { subdistrict?: string | null } | null | undefined): string | null {
  const code = user?.subdistrict;
  return typeof code === 'string' && code.trim() !== '' ? code : null;
}

/** The signed-in office's sub-district (null: the whole district). */
export function ownSubdistrict(): string | null {
  return reachOf(currentSession()?.user);
}

/** True when the signed-in office is one sub-district's: what is shared by the district is read-only. */
export function isScoped(): boolean {
  return ownSubdistrict() !== null;
}

/** A sub-district by its name when the registry names it, else by its code. */
export function subdistrictName(code: string, known: readonly Subdistrict[]): string {
  return known.find((d) => d.code === code)?.name || code;
}

/** The layout's line under the title: "本街道：明楼街道" for a sub-district's office, "全区" for the district's. */
export function reachLine(code: string | null, known: readonly Subdistrict[]): string {
  return code === null ? ot('reach.district') : ot('reach.subdistrict', { name: subdistrictName(code, known) });
}

/** The sub-district a call may name: a sub-district's office only ever its own, the district's office what it
 *  chose (null: none). */
export function heldSubdistrict(chosen: string | null | undefined, own: string | null): string | null {
  if (own !== null) return own;
  return chosen ? chosen : null;
}

/** The body of `POST /api/office/users`: the district's office may file the account under a sub-district (none
 *  chosen: the district's); a sub-district's office sends none (the server files it under its own). */
export function newUserBody(fields: Record<string, string>, own: string | null): Record<string, string> {
  const body: Record<string, string> = {};
  for (const k of ['role', 'username', 'name', 'password']) body[k] = fields[k] ?? '';
  const chosen = own === null ? (fields.subdistrict ?? '').trim() : '';
  if (chosen) body.subdistrict = chosen;
  return body;
}

/** The choices of the new account's sub-district for the district's office (the district's first, as none);
 *  null for a sub-district's office, which is offered no choice. */
export function subdistrictChoices(known: readonly Subdistrict[], own: string | null): [string, string][] | null {
  if (own !== null) return null;
  return [['', ot('registry.userSubdistrict.none')], ...known.map((d): [string, string] => [d.code, d.name || d.code])];
}

/** The sub-district a new account of `role` is offered under (`subdistrictChoices`) until the office chooses: for a
 *  grid worker, the district's only sub-district when it has just one (as `mashang setup` makes it); else none, and
 *  never for an office account (filed under a sub-district, it would lose its district-wide reach). */
export function defaultSubdistrict(known: readonly Subdistrict[], role: string): string {
  return role === 'grid' && known.length === 1 ? known[0]!.code : '';
}

/** The choices of sub-district of the red/black list and what is made of it (the monthly report, the rankings
 *  export), by name else code: offered to the district's office only, and only when there are several (with one
 *  the server takes it; a sub-district's office is held to its own). Empty: no choice, none named. */
export function listChoices(known: readonly Subdistrict[], own: string | null): [string, string][] {
  // A sub-district named before its first community has nothing to rank or report: it is not offered.
  const ranked = known.filter((d) => d.communities === undefined || d.communities > 0);
  if (own !== null || ranked.length < 2) return [];
  return ranked.map((d): [string, string] => [d.code, d.name || d.code]);
}

/** The sub-district chosen among `choices`: the one asked for when offered, else the first (null: no choice). */
export function chosenOf(asked: string | null | undefined, choices: readonly [string, string][]): string | null {
  return (choices.find(([code]) => code === asked) ?? choices[0])?.[0] ?? null;
}

let names: { user: string; list: Promise<Subdistrict[]> } | null = null;

/** The sub-districts the office may see, read once per signed-in account (a scoped office sees its own only). */
export function subdistricts(): Promise<Subdistrict[]> {
  const user = currentSession()?.user.id ?? '';
  if (names?.user !== user) {
    const list = get<unknown>('/api/office/registry/subdistricts')
      .then((answer) => listOf<Subdistrict>(answer, 'subdistricts'))
      .catch((err: unknown) => {
        names = null; // the next screen asks again
        throw err;
      });
    names = { user, list };
  }
  return names.list;
}

/** A sub-district was named: the next screen reads the names again. */
export function forgetSubdistricts(): void {
  names = null;
}
