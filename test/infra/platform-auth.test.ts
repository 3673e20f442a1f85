import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnHostProcess, type HostProcess } from '../support/host-process.js';
import { call } from '../support/http.js';
import { uniqueId } from '../support/ids.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * AUTH_MODE=platform through the local runtime, as `azd up` deploys it. With no AUTH_CLIENT_ID
 * (no Container Apps authentication in front of the app) nothing strips client-sent
 * x-ms-client-principal headers, so the app must refuse them; with AUTH_CLIENT_ID set (infra sets
 * it together with the authConfigs resource) the same headers name the caller.
 */
const OID = 'http://schemas.microsoft.com/identity/claims/objectidentifier';
const CLIENT_ID = '0b7a4c1e-3d2f-4a5b-8c6d-9e0f1a2b3c4d';

function principalHeaders(userId: string, roles: string[] = []): Record<string, string> {
  const claims = [{ typ: OID, val: userId }, ...roles.map((val) => ({ typ: 'roles', val }))];
  const encoded = Buffer.from(JSON.stringify({ auth_typ: 'aad', role_typ: 'roles', claims })).toString('base64');
  return { 'x-ms-client-principal': encoded, 'x-ms-client-principal-id': userId };
}

const message = { role: 'user', content: 'Hello!' };

let stack: Stack;
let configured: HostProcess;

beforeAll(async () => {
  // The azd default: platform mode, no app registration.
  stack = await startStack({ AUTH_MODE: 'platform', AUTH_CLIENT_ID: '' });
  // The same sidecar behind a second app instance that has platform authentication configured.
  configured = await spawnHostProcess({
    AUTH_MODE: 'platform',
    AUTH_CLIENT_ID: CLIENT_ID,
    DAPR_HOST: '127.0.0.1',
    DAPR_HTTP_PORT: String(stack.sidecar.port),
  });
});

afterAll(async () => {
  await configured?.stop();
  await stack?.close();
});

describe('AUTH_MODE=platform without platform authentication (no AUTH_CLIENT_ID)', () => {
  it('refuses a forged admin principal on every data route and touches no store', async () => {
    const victim = uniqueId('victim');
    const forged = principalHeaders(uniqueId('mallory'), ['State.Admin']);
    stack.sidecar.journal.reset();
    const answers = await Promise.all([
      call('POST', `${stack.api}/users/${victim}/chat/messages`, { headers: forged, body: message }),
      call('GET', `${stack.api}/users/${victim}/chat/messages`, { headers: forged }),
      call('GET', `${stack.api}/users/${victim}/profile`, { headers: forged }),
      call('GET', `${stack.api}/users/${victim}/tasks`, { headers: forged }),
      call('DELETE', `${stack.api}/users/${victim}/chat/session`, { headers: forged }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
    expect(JSON.stringify(answers[0]?.body)).toMatch(/not configured/);
    expect(stack.sidecar.journal.stateCalls()).toBe(0);
  });

  it('refuses a principal naming the caller themself, too', async () => {
    const user = uniqueId('user');
    const answer = await call('GET', `${stack.api}/users/${user}/chat/messages`, { headers: principalHeaders(user) });
    expect(answer.status).toBe(401);
  });

  it('still answers the anonymous health probe and the API reference', async () => {
    for (const path of ['health', 'docs', 'docs/scalar.js', 'openapi.json']) {
      const answer = await fetch(`${stack.api}/${path}`);
      await answer.arrayBuffer();
      expect(answer.status, path).toBe(200);
    }
  });
});

describe('AUTH_MODE=platform with platform authentication (AUTH_CLIENT_ID set)', () => {
  it('takes the caller from the principal the platform injected', async () => {
    const user = uniqueId('user');
    const written = await call('POST', `${configured.api}/users/${user}/chat/messages`, {
      headers: principalHeaders(user),
      body: message,
    });
    expect(written.status).toBe(201);
    const read = await call('GET', `${configured.api}/users/${user}/chat/messages`, { headers: principalHeaders(user) });
    expect(read.status).toBe(200);
    expect(read.body.messages).toHaveLength(1);
  });

  it('keeps other users out unless the principal holds the admin role', async () => {
    const owner = uniqueId('owner');
    const other = await call('GET', `${configured.api}/users/${owner}/chat/messages`, {
      headers: principalHeaders(uniqueId('other')),
    });
    expect(other.status).toBe(403);
    const admin = await call('GET', `${configured.api}/users/${owner}/chat/messages`, {
      headers: principalHeaders(uniqueId('admin'), ['State.Admin']),
    });
    expect(admin.status).toBe(200);
  });
});
