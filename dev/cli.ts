/** Shared by the dev entry points (`npm start`, the host, the stand-in). */

/** Parses a `--port` value: 0 means "any free port". */
export function parsePort(text: string, flag = '--port'): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`Invalid ${flag} '${text}'`);
  return port;
}

/**
 * Runs `start` (which listens on `port`); when the port is taken, fails with a message naming the
 * flag that chooses another one instead of a bare EADDRINUSE.
 */
export async function listenOrExplain<T>(flag: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if ((error as NodeJS.ErrnoException | undefined)?.code !== 'EADDRINUSE') throw error;
    throw new Error(`port ${port} is already in use; choose another with ${flag} <port> (${flag} 0 picks a free one)`);
  }
}

/** On Ctrl-C or SIGTERM: run `close` once, then exit 0 (1 if closing failed). */
export function stopOnSignals(what: string, close: () => Promise<void>): void {
  const stop = (signal: NodeJS.Signals): void => {
    process.stdout.write(`Received ${signal}, stopping ${what}\n`);
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** Runs an entry point, turning a startup failure into one readable line and exit code 1. */
export function runMain(what: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(`${what} failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
