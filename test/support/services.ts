import { Socket } from 'node:net';

/**
 * Whether the local Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432) answer. Suites that
 * need them skip with a loud reason when they do not, except under CI=true, where the suite runs
 * anyway and fails: CI must have both.
 */
function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => done(true));
  });
}

const [redis, postgres] = await Promise.all([reachable(6379), reachable(5432)]);
export const services = { redis, postgres };
const inCi = process.env.CI === 'true';

/** True when a suite that needs `needed` must be skipped here (never under CI). */
export function missing(...needed: Array<keyof typeof services>): boolean {
  const absent = needed.filter((name) => !services[name]);
  if (absent.length === 0 || inCi) return false;
  console.warn(
    `\n⚠️  SKIPPING a suite: ${absent.join(' and ')} not reachable on 127.0.0.1. Start them with:\n` +
      "   pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n" +
      '   redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no\n',
  );
  return true;
}
