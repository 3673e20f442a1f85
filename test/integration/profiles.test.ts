import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHE_GRACE_SECONDS } from '../../shared/cache/versioned-cache.js';
import { call } from '../support/http.js';
import { uniqueId } from '../support/ids.js';
import { outageSwitch } from '../support/outage.js';
import { startStack, type Stack } from '../support/stack.js';

const CACHE_TTL = 1800;
let clock = Date.now();
let stack: Stack;
const outage = outageSwitch();

beforeAll(async () => {
  stack = await startStack(
    { USER_CACHE_TTL_SECONDS: String(CACHE_TTL), STATE_BREAKER_THRESHOLD: '1000' },
    { now: () => clock, createBackend: outage.createBackend },
  );
});

afterAll(async () => {
  await stack.close();
});

const profileUrl = (userId: string) => `${stack.api}/users/${userId}/profile`;
const getProfile = (userId: string, as = userId) => call('GET', profileUrl(userId), { user: as });
const putProfile = (userId: string, body: unknown, as = userId) => call('PUT', profileUrl(userId), { user: as, body });

describe('user profile', () => {
  it('answers 404 (with x-cache) before a profile exists, and caches the absence', async () => {
    const user = uniqueId('u');
    const first = await getProfile(user);
    expect(first.status).toBe(404);
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect((await getProfile(user)).headers.get('x-cache')).toBe('HIT');
  });

  it('stores a profile and serves it MISS then HIT', async () => {
    const user = uniqueId('u');
    const put = await putProfile(user, { displayName: 'Ada', email: 'ada@example.com', preferences: { theme: 'dark' } });
    expect(put.status).toBe(200);
    expect(put.body.profile).toEqual({
      userId: user,
      displayName: 'Ada',
      email: 'ada@example.com',
      preferences: { theme: 'dark' },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const read = await getProfile(user);
    expect(read.headers.get('x-cache')).toBe('HIT'); // the PUT wrote it through
    expect(read.body).toEqual({ profile: put.body.profile });
    clock += (CACHE_TTL + CACHE_GRACE_SECONDS + 1) * 1000;
    const expired = await getProfile(user);
    expect(expired.headers.get('x-cache')).toBe('MISS');
    expect(expired.body).toEqual({ profile: put.body.profile });
  });

  it('shows an update to the next read, replacing the cached copy, and keeps createdAt', async () => {
    const user = uniqueId('u');
    const first = (await putProfile(user, { displayName: 'Old' })).body.profile;
    expect((await getProfile(user)).body.profile.displayName).toBe('Old');
    clock += 1000;
    await putProfile(user, { displayName: 'New' });
    const read = await getProfile(user);
    expect(read.headers.get('x-cache')).toBe('HIT');
    expect(read.body.profile).toMatchObject({ displayName: 'New', createdAt: first.createdAt });
    expect(read.body.profile.email).toBeUndefined();
  });

  it.each([
    ['no displayName', {}, 'body.displayName'],
    ['a displayName over 100 characters', { displayName: 'x'.repeat(101) }, 'body.displayName'],
    ['an invalid email', { displayName: 'A', email: 'not-an-email' }, 'body.email'],
    ['preferences that are not an object', { displayName: 'A', preferences: ['dark'] }, 'body.preferences'],
    ['preferences over 4 KiB', { displayName: 'A', preferences: { blob: 'x'.repeat(4100) } }, 'body.preferences'],
  ])('rejects %s with 400 and stores nothing', async (_what, body, path) => {
    const user = uniqueId('u');
    const response = await putProfile(user, body);
    expect(response.status).toBe(400);
    expect(response.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    expect((await getProfile(user)).status).toBe(404);
  });

  it('answers 401 without identity and 403 for another user, and lets an admin in', async () => {
    const owner = uniqueId('u');
    await putProfile(owner, { displayName: 'Owner' });
    expect((await call('GET', profileUrl(owner))).status).toBe(401);
    expect((await getProfile(owner, 'mallory')).status).toBe(403);
    expect((await putProfile(owner, { displayName: 'Hacked' }, 'mallory')).status).toBe(403);
    expect((await call('GET', profileUrl(owner), { user: 'ops', admin: true })).body.profile.displayName).toBe('Owner');
  });

  it('answers from the durable store with BYPASS while the cache store is down', async () => {
    const user = uniqueId('u');
    await putProfile(user, { displayName: 'Resilient' });
    outage.takeDown('statestore');
    try {
      const read = await getProfile(user);
      expect(read.status).toBe(200);
      expect(read.headers.get('x-cache')).toBe('BYPASS');
      expect((await putProfile(user, { displayName: 'Still saved' })).status).toBe(200);
    } finally {
      outage.bringBack('statestore');
    }
  });
});
