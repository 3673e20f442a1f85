import { z } from 'zod';
import { Forbidden, Unauthenticated } from '../errors.js';
import { ID_PATTERN } from '../state/keys.js';

export type AuthMode = 'platform' | 'trusted-header';

export interface Caller {
  userId: string;
  isAdmin: boolean;
}

export const ADMIN_ROLE = 'State.Admin';

const OBJECT_ID_CLAIM = 'http://schemas.microsoft.com/identity/claims/objectidentifier';
const ROLE_CLAIMS = ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];

const principalSchema = z.object({
  auth_typ: z.string().min(1),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })),
});

/**
 * Who is calling, from the headers `AUTH_MODE` trusts. Throws Unauthenticated (401).
 *
 * Platform mode trusts `x-ms-client-principal` only when the deployment says Container Apps
 * authentication is in front of the app: `platformClientId` (AUTH_CLIENT_ID) names the Entra app
 * registration the platform validates tokens for, and infra/app/api.bicep sets it only together
 * with the authConfigs resource. Without it nothing strips client-sent principal headers, so any
 * workload that can reach the app could name any user: every caller is refused instead.
 */
export function identifyCaller(headers: Headers, mode: AuthMode, platformClientId?: string): Caller {
  if (mode === 'trusted-header') return fromTrustedHeaders(headers);
  if (!platformClientId) {
    throw new Unauthenticated(
      'Platform authentication is not configured for this deployment (AUTH_CLIENT_ID is unset); no caller is trusted.',
    );
  }
  return fromPlatformPrincipal(headers);
}

/** A caller may act on `userId` when it is their own, or when they hold the admin role. */
export function authorizeUser(caller: Caller, userId: string): void {
  if (caller.userId !== userId && !caller.isAdmin) {
    throw new Forbidden('You may only access your own data.');
  }
}

/**
 * Container Apps authentication injects `x-ms-client-principal` (base64 JSON) together with
 * `x-ms-client-principal-id`, replacing whatever a client sent. Both must be present and agree: a
 * principal that does not decode, does not parse, names no usable user id, or disagrees with the id
 * header is rejected. That catches garbled and hand-made headers, not a determined forger who sets
 * both: platform mode is only as safe as the guarantee that every request passes through Container
 * Apps authentication (no other ingress, no Dapr app port), which infra/ provides and which
 * identifyCaller requires AUTH_CLIENT_ID to vouch for.
 */
function fromPlatformPrincipal(headers: Headers): Caller {
  const encoded = headers.get('x-ms-client-principal');
  if (!encoded) throw new Unauthenticated('Sign in to use this API.');
  const principal = principalSchema.safeParse(decodeBase64Json(encoded));
  if (!principal.success) throw new Unauthenticated('The client principal is not valid.');
  const claims = principal.data.claims;
  const claim = (typ: string) => claims.find((c) => c.typ === typ)?.val;
  const userId = claim(OBJECT_ID_CLAIM) ?? claim('oid') ?? claim('sub');
  if (!userId || !ID_PATTERN.test(userId)) throw new Unauthenticated('The client principal names no valid user id.');
  if (headers.get('x-ms-client-principal-id') !== userId) {
    throw new Unauthenticated('The client principal is not valid.');
  }
  const roleTypes = new Set([...ROLE_CLAIMS, ...(principal.data.role_typ ? [principal.data.role_typ] : [])]);
  const isAdmin = claims.some((c) => roleTypes.has(c.typ) && c.val === ADMIN_ROLE);
  return { userId, isAdmin };
}

/** A trusted upstream (or a developer) names the user; only for AUTH_MODE=trusted-header. */
function fromTrustedHeaders(headers: Headers): Caller {
  const userId = headers.get('x-user-id')?.trim();
  if (!userId) throw new Unauthenticated('Send x-user-id to identify the caller.');
  if (!ID_PATTERN.test(userId)) throw new Unauthenticated('x-user-id is not a valid user id.');
  const roles = (headers.get('x-user-roles') ?? '').split(',').map((role) => role.trim());
  return { userId, isAdmin: roles.includes(ADMIN_ROLE) };
}

function decodeBase64Json(encoded: string): unknown {
  if (!/^[A-Za-z0-9+/=_-]+$/.test(encoded.trim())) return undefined;
  try {
    return JSON.parse(Buffer.from(encoded.trim(), 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
}
