import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot, startStack, type Stack } from '../support/stack.js';

/**
 * Sends requests.http, top to bottom, to the local runtime the way the REST Client extension would
 * (file variables, `# @name` request variables), and checks that it walks through every documented
 * operation, that each answer is a status the document lists for that operation, and that the status
 * its comment promises (`→ 201`) is the one that comes back.
 */

interface HttpFileRequest {
  comment: string;
  name?: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** Splits a .http file into requests (blocks start at `###`); `@name = value` lines are file variables. */
function parseHttpFile(text: string): { variables: Record<string, string>; requests: HttpFileRequest[] } {
  const variables: Record<string, string> = {};
  const requests: HttpFileRequest[] = [];
  for (const block of text.split(/^(?=###)/m)) {
    let comment = '';
    let name: string | undefined;
    let request: HttpFileRequest | undefined;
    let inBody = false;
    const body: string[] = [];
    for (const line of block.split('\n')) {
      if (!request) {
        const variable = /^@(\w+)\s*=\s*(.*)$/.exec(line);
        const named = /^#\s*@name\s+(\w+)/.exec(line);
        if (variable?.[1]) variables[variable[1]] = (variable[2] ?? '').trim();
        else if (named?.[1]) name = named[1];
        else if (line.startsWith('#')) comment += ` ${line.replace(/^#+\s*/, '')}`;
        else if (line.trim() !== '') {
          const [method = '', url = ''] = line.trim().split(/\s+/);
          request = { comment, ...(name ? { name } : {}), method, url, headers: {} };
        }
      } else if (!inBody) {
        if (line.trim() === '') inBody = true;
        else request.headers[line.slice(0, line.indexOf(':')).trim()] = line.slice(line.indexOf(':') + 1).trim();
      } else {
        body.push(line);
      }
    }
    const content = body.join('\n').trim();
    if (request) requests.push({ ...request, ...(content ? { body: content } : {}) });
  }
  return { variables, requests };
}

let stack: Stack;
let document: any;

beforeAll(async () => {
  stack = await startStack();
  document = await (await fetch(`${stack.api}/openapi.json`)).json();
});

afterAll(async () => {
  await stack.close();
});

function operationFor(method: string, path: string): { operationId: string; responses: Record<string, unknown> } | undefined {
  for (const [template, item] of Object.entries<any>(document.paths)) {
    const pattern = new RegExp(`^${template.replace(/[.]/g, '\\.').replace(/\{\w+\}/g, '[^/]+')}$`);
    if (pattern.test(path) && item[method.toLowerCase()]) return item[method.toLowerCase()];
  }
  return undefined;
}

describe('requests.http', () => {
  it('walks through every documented operation, and every request answers as its comment says', async () => {
    const { variables, requests } = parseHttpFile(readFileSync(resolve(projectRoot, 'requests.http'), 'utf8'));
    variables.base = stack.api;
    const named: Record<string, any> = {};
    const substitute = (text: string) =>
      text.replace(/\{\{([\w.$]+)\}\}/g, (_, expression: string) => {
        const reference = /^(\w+)\.response\.body\.\$\.(.+)$/.exec(expression);
        if (reference?.[1] && reference[2]) {
          return reference[2].split('.').reduce((value: any, key) => value?.[key], named[reference[1]]) ?? `{{${expression}}}`;
        }
        return variables[expression] ?? `{{${expression}}}`;
      });
    const covered = new Set<string>();
    expect(requests.length).toBeGreaterThan(20);
    for (const request of requests) {
      const url = new URL(substitute(request.url));
      const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, substitute(v)]));
      const response = await fetch(url, {
        method: request.method,
        headers,
        ...(request.body ? { body: substitute(request.body) } : {}),
      });
      const text = await response.text();
      const what = `${request.method} ${url.pathname} (${request.comment.trim().slice(0, 60)})`;
      const operation = operationFor(request.method, url.pathname.replace(/^\/api/, ''));
      expect(operation, `${what} is not a documented operation`).toBeDefined();
      if (!operation) continue;
      covered.add(operation.operationId);
      expect(Object.keys(operation.responses), `${what} answered ${response.status}: ${text.slice(0, 200)}`).toContain(
        String(response.status),
      );
      expect(response.status, `${what}: ${text.slice(0, 200)}`).toBeLessThan(500);
      const promised = /→\s*(\d{3})/.exec(request.comment)?.[1];
      if (promised) expect(response.status, `${what}: ${text.slice(0, 200)}`).toBe(Number(promised));
      if (request.name) named[request.name] = JSON.parse(text);
    }
    const all = Object.values<any>(document.paths).flatMap((item) => Object.values<any>(item).map((op) => op.operationId));
    expect([...covered].sort()).toEqual(all.sort());
  });
});
