// A photo named in several answers of one e-file is fetched once.
import { describe, expect, it, vi } from 'vitest';

const fetched: string[] = [];
vi.mock('../src/session', () => ({
  ApiError: class extends Error {},
  apiFetch: async () => new Response('{}'),
  apiJson: async () => ({}),
  currentSession: () => null,
}));

describe('office images', () => {
  it('fetches each photo once, and a failed one again next time', async () => {
    vi.stubGlobal('fetch', async (path: string) => {
      fetched.push(path);
      if (path.includes('broken')) throw new Error('offline');
      return new Response(new Blob(['jpeg']), { headers: { 'content-type': 'image/jpeg' } });
    });
    vi.spyOn(URL, 'createObjectURL').mockImplementation((b) => `blob:${(b as Blob).size}`);
    const { imageUrl } = await import('../src/office/api');
    const path = '/api/office/photos/S0005%3Aphoto%3A1';
    const urls = await Promise.all([imageUrl(path), imageUrl(path), imageUrl(path)]);
    expect(new Set(urls).size).toBe(1);
    expect(fetched.filter((p) => p === path)).toHaveLength(1);
    await expect(imageUrl('/broken')).rejects.toThrow('offline');
    await expect(imageUrl('/broken')).rejects.toThrow('offline');
    expect(fetched.filter((p) => p === '/broken')).toHaveLength(2);
    vi.unstubAllGlobals();
  });
});
