import { describe, expect, it } from 'vitest';
import { Forbidden, Unauthenticated } from '../../shared/errors.js';
import { authorizeUser, identifyCaller } from '../../shared/http/identity.js';

const OID = 'http://schemas.microsoft.com/identity/claims/objectidentifier';
const userId = '6f1c3a2e-7b4d-4e8f-9a0b-1c2d3e4f5a6b';
/** The app registration Container Apps authentication validates tokens for (AUTH_CLIENT_ID). */
const CLIENT_ID = '0b7a4c1e-3d2f-4a5b-8c6d-9e0f1a2b3c4d';

function principal(claims: Array<{ typ: string; val: string }>, extra: Record<string, unknown> = {}): string {
  return Buffer.from(JSON.stringify({ auth_typ: 'aad', name_typ: 'name', role_typ: 'roles', claims, ...extra })).toString('base64');
}

function platformHeaders(encoded: string, principalId: string | null = userId): Headers {
  const headers = new Headers({ 'x-ms-client-principal': encoded });
  if (principalId !== null) headers.set('x-ms-client-principal-id', principalId);
  return headers;
}

describe('caller identity in platform mode', () => {
  it('takes the user id from the object id claim', () => {
    const headers = platformHeaders(
      principal([
        { typ: OID, val: userId },
        { typ: 'sub', val: 'other' },
      ]),
    );
    expect(identifyCaller(headers, 'platform', CLIENT_ID)).toEqual({ userId, isAdmin: false });
  });

  it('falls back to oid, then sub', () => {
    expect(identifyCaller(platformHeaders(principal([{ typ: 'oid', val: userId }])), 'platform', CLIENT_ID).userId).toBe(userId);
    expect(identifyCaller(platformHeaders(principal([{ typ: 'sub', val: userId }])), 'platform', CLIENT_ID).userId).toBe(userId);
  });

  it('recognises the State.Admin app role', () => {
    const headers = platformHeaders(
      principal([
        { typ: OID, val: userId },
        { typ: 'roles', val: 'State.Admin' },
      ]),
    );
    expect(identifyCaller(headers, 'platform', CLIENT_ID)).toEqual({ userId, isAdmin: true });
  });

  it('ignores the admin role name in a claim that is not a role', () => {
    const headers = platformHeaders(
      principal([
        { typ: OID, val: userId },
        { typ: 'name', val: 'State.Admin' },
      ]),
    );
    expect(identifyCaller(headers, 'platform', CLIENT_ID).isAdmin).toBe(false);
  });

  it.each([
    ['no principal at all', new Headers()],
    ['a principal that is not base64', platformHeaders('%%%not-base64%%%')],
    ['a principal that is not JSON', platformHeaders(Buffer.from('hello').toString('base64'))],
    ['a principal without claims', platformHeaders(Buffer.from(JSON.stringify({ auth_typ: 'aad' })).toString('base64'))],
    ['a principal without an authentication type', platformHeaders(principal([{ typ: OID, val: userId }], { auth_typ: '' }))],
    ['a principal naming no user', platformHeaders(principal([{ typ: 'name', val: 'x' }]))],
    ['a principal whose user id is not a valid id', platformHeaders(principal([{ typ: OID, val: 'a:b' }]), 'a:b')],
    ['a principal whose id header disagrees (hand-made)', platformHeaders(principal([{ typ: OID, val: userId }]), 'someone-else')],
    [
      'a principal without the id header the platform always sends (hand-made)',
      platformHeaders(principal([{ typ: OID, val: userId }]), null),
    ],
  ])('rejects %s with 401', (_what, headers) => {
    expect(() => identifyCaller(headers, 'platform', CLIENT_ID)).toThrow(Unauthenticated);
  });

  it('does not trust x-user-id in platform mode', () => {
    expect(() => identifyCaller(new Headers({ 'x-user-id': 'alice' }), 'platform', CLIENT_ID)).toThrow(Unauthenticated);
  });
});

describe('platform mode without platform authentication (no AUTH_CLIENT_ID)', () => {
  it('refuses a well-formed principal: nothing guarantees the platform set it', () => {
    const forged = platformHeaders(
      principal([
        { typ: OID, val: userId },
        { typ: 'roles', val: 'State.Admin' },
      ]),
    );
    expect(() => identifyCaller(forged, 'platform')).toThrow(/not configured/);
    expect(() => identifyCaller(forged, 'platform', '')).toThrow(Unauthenticated);
  });

  it('still lets trusted-header mode name the caller (local runs need no app registration)', () => {
    expect(identifyCaller(new Headers({ 'x-user-id': 'alice' }), 'trusted-header', undefined).userId).toBe('alice');
  });
});

describe('caller identity in trusted-header mode', () => {
  it('takes the user id from x-user-id', () => {
    expect(identifyCaller(new Headers({ 'x-user-id': 'alice' }), 'trusted-header')).toEqual({ userId: 'alice', isAdmin: false });
  });

  it('makes a caller admin when x-user-roles lists State.Admin', () => {
    const headers = new Headers({ 'x-user-id': 'ops', 'x-user-roles': 'Reader, State.Admin' });
    expect(identifyCaller(headers, 'trusted-header').isAdmin).toBe(true);
  });

  it('does not accept a role that merely contains the admin name', () => {
    const headers = new Headers({ 'x-user-id': 'ops', 'x-user-roles': 'State.Administrator' });
    expect(identifyCaller(headers, 'trusted-header').isAdmin).toBe(false);
  });

  it.each([
    ['no x-user-id', {}],
    ['an empty x-user-id', { 'x-user-id': '' }],
    ['an x-user-id with a colon', { 'x-user-id': 'a:b' }],
    ['an over-long x-user-id', { 'x-user-id': 'a'.repeat(129) }],
  ])('rejects %s with 401', (_what, headers) => {
    expect(() => identifyCaller(new Headers(headers), 'trusted-header')).toThrow(Unauthenticated);
  });

  it('does not trust a platform principal in trusted-header mode', () => {
    expect(() => identifyCaller(platformHeaders(principal([{ typ: OID, val: userId }])), 'trusted-header')).toThrow(Unauthenticated);
  });
});

describe('user authorization', () => {
  it('lets callers act on their own data', () => {
    expect(() => authorizeUser({ userId: 'alice', isAdmin: false }, 'alice')).not.toThrow();
  });

  it('forbids acting on another user', () => {
    expect(() => authorizeUser({ userId: 'alice', isAdmin: false }, 'bob')).toThrow(Forbidden);
  });

  it('lets an admin act on any user', () => {
    expect(() => authorizeUser({ userId: 'ops', isAdmin: true }, 'bob')).not.toThrow();
  });
});
