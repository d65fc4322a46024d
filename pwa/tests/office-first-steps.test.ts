// @vitest-environment happy-dom
// The overview's first steps of a sub-district with no shops (导入店铺普查表 → 设网格与网格员 → 打印店铺二维码) each open
// 登记管理 at the section the step names, scrolled to and focused there: they all opened the top of a long screen,
// the grids and the posters far below the import's form.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseRest } from '../src/office/main';
import { firstSteps } from '../src/office/overview';
import { registry } from '../src/office/registry';
import { signIn } from '../src/session';

beforeEach(() => {
  signIn({ token: 't1', user: { id: 'office:wang', role: 'office', name: '王' } });
  vi.stubGlobal('fetch', async (path: string) => {
    const answers: Record<string, unknown> = {
      '/api/office/registry/communities': [
        { code: 'wensan', name: '文三社区', shops: 0, grids: [{ code: 'g1', name: '文三一网格', workers: [], shops: 0 }] },
      ],
    };
    return new Response(JSON.stringify(answers[path.split('?')[0]!] ?? []), { status: 200 });
  });
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  document.body.replaceChildren();
});

/** The registry as the office's router opens it at `href` (a link's), drawn once its sections below are read. */
async function opened(href: string): Promise<HTMLElement> {
  const { path, query } = parseRest(href.replace(/^\/office/, ''));
  expect(path).toEqual(['registry']);
  const root = registry(query, []);
  document.body.append(root);
  await vi.waitFor(() => expect(root.querySelector('[data-table=grids]')).not.toBeNull());
  await new Promise((r) => setTimeout(r, 0));
  return root;
}

describe('the first steps', () => {
  it('each open the registry at the section the step names, scrolled to and focused', async () => {
    const links = [...firstSteps().querySelectorAll<HTMLAnchorElement>('li[data-step] > a')];
    expect(links.map((a) => [a.textContent, a.getAttribute('href')])).toEqual([
      ['导入店铺普查表', '/office/registry?section=import'],
      ['设网格与网格员', '/office/registry?section=grids'],
      ['打印店铺二维码', '/office/registry?section=posters'],
    ]);
    const headings: string[] = [];
    for (const link of links) {
      const scrolled: Element[] = [];
      vi.spyOn(Element.prototype, 'scrollIntoView').mockImplementation(function (this: Element) {
        scrolled.push(this);
      });
      const root = await opened(link.getAttribute('href')!);
      const focused = document.activeElement as HTMLElement;
      const section = focused.closest('section')!;
      // The keyboard and a screen reader go on from the section's heading; the section is scrolled to the top.
      expect(focused.tagName).toBe('H2');
      expect(root.contains(section)).toBe(true);
      expect(scrolled).toEqual([section]);
      headings.push(focused.textContent ?? '');
      root.remove();
      vi.restoreAllMocks();
    }
    expect(headings).toEqual(['导入店铺普查表（CSV / XLSX）', '网格', '打印二维码海报']);
  });

  it('the registry opened from its menu item stays at the top, nothing focused', async () => {
    const scroll = vi.spyOn(Element.prototype, 'scrollIntoView').mockImplementation(() => undefined);
    for (const href of ['/office/registry', '/office/registry?section=nowhere']) {
      await opened(href);
      expect(document.activeElement).toBe(document.body);
    }
    expect(scroll).not.toHaveBeenCalled();
  });
});
