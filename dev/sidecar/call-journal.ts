import type { Reply } from './state-api.js';

/** One request the stand-in received, as the app sent it. */
export interface JournalEntry {
  method: string;
  /** Path and query, as received. */
  url: string;
  /** What the call was, from its path: `get`, `save`, `delete`, `bulk`, `transaction`, `metadata`, `healthz`, `other`. */
  operation: string;
  /** The state store named in the path, when there is one. */
  store?: string;
  /** The W3C `traceparent` header the caller sent, if any. */
  traceparent?: string;
}

const KEEP_LATEST = 1000;

/**
 * A record of what reached the stand-in, so tests and the benchmark can count sidecar round trips
 * per operation and see the trace context the app propagated. Not part of daprd's API: it is
 * readable in-process (`sidecar.journal`) and over HTTP at `GET /_standin/calls` (`DELETE` resets),
 * a path daprd does not serve and the app never calls.
 */
export class CallJournal {
  static readonly path = '/_standin/calls';
  #counts = new Map<string, number>();
  #latest: JournalEntry[] = [];
  #total = 0;

  record(method: string, url: string, traceparent: string | undefined): void {
    const entry = describe(method, url, traceparent);
    const name = entry.store ? `${entry.operation}:${entry.store}` : entry.operation;
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + 1);
    this.#total += 1;
    this.#latest.push(entry);
    if (this.#latest.length > KEEP_LATEST * 2) this.#latest = this.#latest.slice(-KEEP_LATEST);
  }

  /** Calls since the last reset, by `operation` or `operation:store`. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  /** State API calls (get, save, delete, bulk, transaction) since the last reset. */
  stateCalls(): number {
    let total = 0;
    for (const [name, count] of this.#counts) if (STATE_OPERATIONS.has(name.split(':')[0] ?? '')) total += count;
    return total;
  }

  /** The latest entries (at most 1000), oldest first. */
  entries(): JournalEntry[] {
    return this.#latest.slice(-KEEP_LATEST);
  }

  reset(): void {
    this.#counts.clear();
    this.#latest = [];
    this.#total = 0;
  }

  /** The HTTP view: `GET` reports, `DELETE` resets. */
  answer(method: string): Reply {
    if (method === 'DELETE') {
      this.reset();
      return { status: 204 };
    }
    const body = { total: this.#total, stateCalls: this.stateCalls(), counts: this.counts() };
    return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  }
}

const STATE_OPERATIONS = new Set(['get', 'save', 'delete', 'bulk', 'transaction', 'query']);

function describe(method: string, url: string, traceparent: string | undefined): JournalEntry {
  const path = url.split('?')[0] ?? '';
  const [version, area, store, key] = path.split('/').slice(1);
  const base = { method, url, ...(traceparent ? { traceparent } : {}) };
  if (version === 'v1.0' && area === 'state' && store) {
    const operation = key === undefined ? 'save' : key === 'bulk' || key === 'transaction' ? key : method === 'DELETE' ? 'delete' : 'get';
    return { ...base, operation, store };
  }
  if (version?.startsWith('v1.0') && area === 'state' && store) return { ...base, operation: 'query', store };
  if (area === 'metadata' || area === 'healthz') return { ...base, operation: area };
  return { ...base, operation: 'other' };
}
