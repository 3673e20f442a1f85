import { isDeepStrictEqual } from 'node:util';
import type { Clock } from '../clock.js';
import { Conflict, NotFound, Unavailable } from '../errors.js';
import type { Log } from '../logger.js';
import { parseStored, type UpdateDecision, updateWithRetry } from '../state/compare-and-set.js';
import { keyBuilder } from '../state/keys.js';
import type { StateStore } from '../state/port.js';
import { type PutSessionInput, type SessionDocument, sessionDocumentSchema } from './session-schemas.js';

export const sessionKey = keyBuilder('session', 'auth');

/**
 * The store keeps a key this much longer than the session's own expiry: a read near the end can
 * then never race Redis dropping the key (a compare-and-set on an absent Redis key succeeds), and
 * the stored `expiresAt` stays the one authority on whether a session is live.
 */
export const EXPIRY_GRACE_SECONDS = 60;
const TOMBSTONE_SECONDS = 300;
/**
 * A sliding session is extended by a read only once this fraction of its TTL has passed since it
 * was last written: most reads then write nothing (one store call), and the expiry a reader sees
 * is at most a tenth of the TTL short of a full TTL.
 */
export const EXTEND_AFTER = 0.1;

export interface SessionView {
  sessionId: string;
  data: Record<string, unknown>;
  expiresAt: string;
}

export interface SessionsService {
  put(sessionId: string, owner: string, input: PutSessionInput, log: Log): Promise<{ sessionId: string; expiresAt: string }>;
  get(sessionId: string, caller: string, log: Log): Promise<SessionView>;
  delete(sessionId: string, caller: string, log: Log): Promise<void>;
}

/** What JSON keeps of a value, for comparing what we wrote with what is stored. */
const asStored = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

const notFound = () => new NotFound('No such session.');

const view = (sessionId: string, doc: { data: Record<string, unknown>; expiresAt: string }): SessionView => ({
  sessionId,
  data: doc.data,
  expiresAt: doc.expiresAt,
});

/** How long the store keeps what is written: a live session its TTL plus the grace, a tombstone a while. */
const storeTtl = (doc: SessionDocument) => (doc.kind === 'live' ? doc.ttlSeconds + EXPIRY_GRACE_SECONDS : TOMBSTONE_SECONDS);

/**
 * Sessions belong to the caller who created them. To anyone else a session does not exist: GET,
 * PUT and DELETE all answer 404, the same as for an unknown or expired id. (A PUT on a free id
 * succeeds, so ids must be long and random: 16–128 characters.)
 */
export function createSessionsService({ store, clock }: { store: StateStore; clock: Clock }): SessionsService {
  const isLive = (doc: SessionDocument | null): doc is Extract<SessionDocument, { kind: 'live' }> =>
    doc !== null && doc.kind === 'live' && Date.parse(doc.expiresAt) > clock.now();

  /**
   * A compare-and-set update. A save whose answer was lost (timeout, reset) is read back: `landed`
   * says whether what is stored now is what we wrote; if not, or if the read fails, the 503 says
   * the outcome is unknown.
   */
  const update = async <R>(
    sessionId: string,
    decide: (current: SessionDocument | null) => UpdateDecision<SessionDocument, R>,
    landed: (stored: SessionDocument | null) => boolean,
  ): Promise<void> => {
    const key = sessionKey(sessionId);
    try {
      await updateWithRetry({ store, key, schema: sessionDocumentSchema, ttlSeconds: storeTtl, decide });
    } catch (error) {
      if (!(error instanceof Unavailable && error.outcomeUnknown)) throw error;
      const entry = await store.get(key).catch(() => {
        throw error;
      });
      if (!landed(entry === null ? null : parseStored(sessionDocumentSchema, key, entry.value))) throw error;
    }
  };

  const renewed = (doc: { ttlSeconds: number }) => new Date(clock.now() + doc.ttlSeconds * 1000).toISOString();

  /** More than EXTEND_AFTER of the TTL has passed since the session was last written (its expiry then was now + TTL). */
  const dueForExtension = (doc: { ttlSeconds: number; expiresAt: string }) =>
    clock.now() - (Date.parse(doc.expiresAt) - doc.ttlSeconds * 1000) > doc.ttlSeconds * 1000 * EXTEND_AFTER;

  return {
    async put(sessionId, owner, input, log) {
      const expiresAt = renewed(input);
      const { data, sliding, ttlSeconds } = input;
      const written: SessionDocument = { kind: 'live', owner, data, sliding, ttlSeconds, expiresAt };
      await update(
        sessionId,
        (current) => {
          if (isLive(current) && current.owner !== owner) throw notFound();
          return { write: written, result: undefined };
        },
        (stored) => isDeepStrictEqual(stored, asStored(written)),
      );
      log.info({ sliding: input.sliding, ttlSeconds: input.ttlSeconds }, 'session saved');
      return { sessionId, expiresAt };
    },

    async get(sessionId, caller, log) {
      // One read. A sliding session is moved forward only when a tenth of its TTL has passed since
      // it last was, with one compare-and-set on that read; losing that race (another read or a
      // write moved it first) or failing it answers with what was read: a GET never answers 409.
      const key = sessionKey(sessionId);
      const entry = await store.get(key);
      const current = entry === null ? null : parseStored(sessionDocumentSchema, key, entry.value);
      if (entry === null || !isLive(current) || current.owner !== caller) throw notFound();
      if (!current.sliding || !dueForExtension(current)) return view(sessionId, current);
      const slid = { ...current, expiresAt: renewed(current) };
      try {
        await store.save(key, slid, { mode: 'compare-and-set', etag: entry.etag, ttlSeconds: storeTtl(slid) });
      } catch (error) {
        if (!(error instanceof Conflict || error instanceof Unavailable)) throw error;
        log.info({ err: error }, 'sliding session not extended; answering what was read');
        return view(sessionId, current);
      }
      log.debug({ expiresAt: slid.expiresAt }, 'sliding session extended');
      return view(sessionId, slid);
    },

    async delete(sessionId, caller, log) {
      // Absent, expired and foreign sessions all answer 404: a caller never learns an id is taken.
      await update(
        sessionId,
        (current) => {
          if (!isLive(current) || current.owner !== caller) throw notFound();
          return { write: { kind: 'deleted' }, result: undefined };
        },
        (stored) => stored?.kind === 'deleted',
      );
      log.info('session deleted');
    },
  };
}
