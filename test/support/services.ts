import { Socket } from 'node:net';
import { hasRedisServerBinary } from './redis-server.js';

/**
 * What suites on real backends need from this machine: the local Redis (127.0.0.1:6379) and
 * PostgreSQL (127.0.0.1:5432) answering, and a `redis-server` binary for the suites that start a
 * private Redis. A suite whose needs are absent skips with a loud reason, except under CI=true,
 * where absence fails the run: CI must have all three.
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
export const services = { redis, postgres, 'redis-server': hasRedisServerBinary() };
export type Service = keyof typeof services;

const remedies: Record<Service, string> = {
  redis: 'Redis not reachable on 127.0.0.1:6379 (redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no)',
  postgres: 'PostgreSQL not reachable on 127.0.0.1:5432 (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)',
  'redis-server': 'no redis-server binary to start a private Redis (apt-get install redis-server)',
};

/**
 * True when a suite that needs `needed` must be skipped here, after a console.warn naming what is
 * absent. Under CI=true it never skips: it throws, which fails the test file.
 */
export function missing(...needed: Service[]): boolean {
  const absent = needed.filter((name) => !services[name]);
  if (absent.length === 0) return false;
  const reasons = absent.map((name) => `   - ${remedies[name]}`).join('\n');
  if (process.env.CI === 'true') throw new Error(`CI=true and a suite's services are absent:\n${reasons}`);
  console.warn(`\n⚠️  SKIPPING a suite:\n${reasons}\n`);
  return true;
}
