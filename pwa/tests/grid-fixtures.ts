// Documents the grid worker's tests share.
import type { ShopDoc } from '../src/grid/docs';

/** A shop's registry document as the phone holds it. */
export function shop(code: string, extra: Partial<ShopDoc> = {}): ShopDoc {
  return {
    _id: `${code}:shop:${code}`,
    type: 'shop',
    code,
    name: `店${code}`,
    address: `划船巷${code.slice(1)}号`,
    category: 'retail',
    community: 'huachuan',
    grid: 'huachuan-01',
    status: 'active',
    owner_activated: true,
    ...extra,
  };
}
