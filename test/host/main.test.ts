import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const mainScript = fileURLToPath(new URL('../../dev/host/main.ts', import.meta.url));
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const cliApp = fileURLToPath(new URL('./fixtures/cli-app/', import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function startCli(args: string[], cwd: string): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', mainScript, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function waitForListing(output: () => string, pattern: RegExp): Promise<RegExpExecArray> {
  for (let waited = 0; waited < 15_000; waited += 50) {
    const match = pattern.exec(output());
    if (match) return match;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`CLI never printed ${pattern}; output:\n${output()}`);
}

describe('host CLI', () => {
  it('prints each function like func start, serves it, and stops cleanly on SIGTERM', async () => {
    const { child, output } = startCli(['--port', '0', '--functions', 'test/host/fixtures/echo.ts'], projectRoot);
    const [, url] = await waitForListing(output, /echo: \[GET,POST,PUT,DELETE\] (http:\/\/localhost:\d+)\/api\/echo\/\{id\}/);
    expect(output()).toMatch(/bytesEcho: \[POST\] http:\/\/localhost:\d+\/api\/bytes-echo/);

    const res = await fetch(`${url}/api/echo/cli`);
    expect(res.status).toBe(200);

    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });

  it('defaults --functions to the "main" glob of package.json in the working directory', async () => {
    const { child, output } = startCli(['--port', '0'], cliApp);
    const [, url] = await waitForListing(output, /hello: \[GET\] (http:\/\/localhost:\d+)\/api\/hello\/\{name\}/);
    expect(await (await fetch(`${url}/api/hello/world`)).text()).toBe('hello world');

    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });

  it('lists its flags under --help', async () => {
    const { child, output } = startCli(['--help'], projectRoot);
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    for (const flag of ['--port', '--host', '--functions']) expect(output()).toContain(flag);
  });

  it('names --port when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const { child, output } = startCli(['--port', String(port), '--functions', 'test/host/fixtures/echo.ts'], projectRoot);
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(1);
      expect(output()).toContain(`port ${port} is already in use; choose another with --port <port>`);
    } finally {
      blocker.close();
    }
  });
});
