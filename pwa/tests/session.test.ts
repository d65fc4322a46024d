// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { tellSignedOut } from '../src/session';

describe('signing out', () => {
  it('tells the server of each token signed out here, again until it has answered', async () => {
    localStorage.setItem('mashang.signedOut', JSON.stringify(['t1', 't2', 't3']));
    const sent: string[] = [];
    const answers: Record<string, number | 'offline'> = { t1: 200, t2: 'offline', t3: 401 };
    const send = (async (_url: string, init: RequestInit) => {
      const token = String((init.headers as Record<string, string>).Authorization).replace('Bearer ', '');
      sent.push(token);
      const answer = answers[token];
      if (answer === 'offline') throw new TypeError('Failed to fetch');
      return new Response('{}', { status: answer });
    }) as typeof fetch;
    expect(await tellSignedOut(send)).toBe(1);
    expect(sent).toEqual(['t1', 't2', 't3']);
    expect(JSON.parse(localStorage.getItem('mashang.signedOut') ?? '[]')).toEqual(['t2']);
    answers.t2 = 200;
    expect(await tellSignedOut(send)).toBe(0);
    expect(localStorage.getItem('mashang.signedOut')).toBe('[]');
  });
});

