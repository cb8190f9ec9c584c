/**
 * This host's identity in etcd mode (issue 24; pkg/hosts says what it is). The daemon claims its public
 * address before it takes any lease: a second host at the same address would reuse the first one's leases
 * (a lease carrying this host's PublicIP is this host's, as in flannel) and remove its endpoint records as
 * unattached. So a host that finds its address held by another live host refuses to start, naming both.
 *
 * The host ID is made once and kept in the state directory (`<state-dir>/host-id`, mode 0600): it tells a
 * restart of this host, whose record may still be live, from another host. The record lives on an etcd lease
 * of 90 s renewed every 30 s (two renewals may fail before it lapses); a lapsed or deleted record is claimed
 * again, through the same decision, at the next renewal. A renewal reads this host's record only (issue 28:
 * reading every host's costs etcd O(hosts²)); a shared node name is warned of by the host that claims last.
 * Renewals are jittered (up to a fifth earlier), so hosts started together do not renew in the same instant.
 *
 * Until the first claim the leases wait (`gateLeaseSource`); the config is read meanwhile, so a host whose
 * etcd is unreachable still says why it is not ready exactly as before.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { WeftError, isWeftError, messageOf } from '../errors/mod.ts';
import { createExclusive, readIfExists } from '../files/mod.ts';
import { HOST_ID, shortHostId, type HostRecord } from '../hosts/mod.ts';
import { realClock, type Clock, type LeaseSource, type Timer } from '../lease/mod.ts';
import type { Logger } from '../log/logger.ts';
import type { HostRegistry } from '../store/mod.ts';

export const HOST_RECORD_TTL_S = 90;
export const HOST_RECORD_RENEW_MS = 30_000;
/** While etcd cannot be reached, the first claim is tried again this often. */
const CLAIM_RETRY_MS = 2000;

/** This host's ID from `<stateDir>/host-id`, made (exclusively, so two racing starts agree) when missing. */
export function loadHostId(stateDir: string): string {
  const path = join(stateDir, 'host-id');
  for (let i = 0; i < 2; i++) {
    const text = readIfExists(path);
    if (text !== undefined) {
      const id = text.trim();
      // Not made anew: a different ID would make this host look like another one to its own live record.
      if (!HOST_ID.test(id))
        throw new WeftError(
          'WEFT_INVALID_CONFIG',
          `${path} does not hold a host ID (32 hex digits); delete it and this host makes a new one`,
        );
      return id;
    }
    if (createExclusive(path, `${randomBytes(16).toString('hex')}\n`, 0o600)) continue;
  }
  throw new WeftError('WEFT_IO', `cannot create ${path}`);
}

export interface HostIdentityDeps {
  readonly registry: HostRegistry;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Spreads the renewals, in [0, 1) (Math.random; 0 in tests that count renewals). */
  readonly jitter?: () => number;
}

export class HostIdentity {
  readonly me: HostRecord;
  readonly #registry: HostRegistry;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #jitter: () => number;
  readonly #stop = new AbortController();
  /** Settles once: resolved when the address is claimed, rejected (WEFT_HOST_CONFLICT) when it is refused. */
  #claimed: Promise<void> | undefined;
  #leaseId: string | undefined;
  #timer: Timer | undefined;
  /** Warnings already logged, so each is said once rather than every renewal. */
  readonly #said = new Set<string>();
  /** The renewals' current problem, said when it starts or changes, not every renewal. */
  #problem: string | undefined;

  constructor(me: HostRecord, deps: HostIdentityDeps) {
    this.me = me;
    this.#registry = deps.registry;
    this.#log = deps.log;
    this.#clock = deps.clock ?? realClock;
    this.#jitter = deps.jitter ?? Math.random;
  }

  /** Starts claiming; the promise settles with the first claim (see #claimed). Idempotent. */
  start(): Promise<void> {
    this.#claimed ??= this.#firstClaim();
    return this.#claimed;
  }

  /**
   * Resolves once the address is claimed; rejects with the signal's reason when it aborts first. A refused
   * claim never resolves it: the daemon is stopping for that, and says why once.
   */
  whenClaimed(signal?: AbortSignal): Promise<void> {
    const claimed = this.start().catch(() => new Promise<void>(() => undefined));
    if (!signal) return claimed;
    return Promise.race([
      claimed,
      new Promise<void>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
    ]);
  }

  /**
   * Stops renewing and revokes the record. Revoked rather than left to lapse: after a clean stop no daemon runs
   * at this address, and a host given it next (a rebuilt VM with a fresh state directory) should not be
   * refused for up to 90 s. A restart of this host needs neither (its host ID takes its own record over); a
   * crash leaves the record to lapse.
   */
  async stop(): Promise<void> {
    this.#stop.abort(new Error('stopped'));
    this.#timer?.cancel();
    if (this.#leaseId) await this.#registry.revoke(this.#leaseId);
    this.#leaseId = undefined;
  }

  async #firstClaim(): Promise<void> {
    for (;;) {
      try {
        await this.#claim();
        break;
      } catch (e) {
        if (isWeftError(e) && e.code === 'WEFT_HOST_CONFLICT') throw e;
        this.#say(`cannot register this host in etcd yet: ${messageOf(e)}; no lease is taken until it is, retrying`, 'warn');
      }
      await this.#clock.sleep(CLAIM_RETRY_MS, this.#stop.signal);
    }
    this.#problem = undefined;
    this.#log.info('this host is registered', { key: this.#registry.keyOf(this.me.PublicIP), hostId: shortHostId(this.me.HostID) });
    this.#schedule();
  }

  /** One claim; throws WEFT_HOST_CONFLICT when refused, the store's error when etcd failed. */
  async #claim(): Promise<void> {
    const c = await this.#registry.claim(this.me, HOST_RECORD_TTL_S);
    if (!c.claimed) throw new WeftError('WEFT_HOST_CONFLICT', c.reason);
    // Stopped while the claim was on its way: stop() had no lease to revoke yet.
    if (this.#stop.signal.aborted) return this.#registry.revoke(c.leaseId);
    this.#leaseId = c.leaseId;
    for (const w of c.warnings) this.#once(w);
  }

  #schedule(): void {
    if (this.#stop.signal.aborted) return;
    const wait = HOST_RECORD_RENEW_MS * (1 - 0.2 * this.#jitter());
    this.#timer = this.#clock.timer(() => void this.#renew().finally(() => this.#schedule()), wait);
  }

  /**
   * Keeps the record's lease alive and checks the record is still this host's. One that lapsed (the daemon
   * hung past the TTL) or was deleted is claimed again; if another host has claimed the address meanwhile,
   * this host keeps serving its containers and says so at error level: only an operator can settle it.
   */
  async #renew(): Promise<void> {
    try {
      if (this.#leaseId) await this.#registry.keepAlive(this.#leaseId);
      const { decision, mine } = await this.#registry.check(this.me, 'mine');
      if (this.#stop.signal.aborted) return;
      if (mine !== undefined && mine.lease === this.#leaseId && decision.kind !== 'refuse') {
        if (decision.kind === 'warn') for (const w of decision.reasons) this.#once(w);
      } else {
        this.#leaseId = undefined;
        await this.#claim();
        this.#log.warn("this host's record in etcd had lapsed or was removed; registered it again");
      }
      if (this.#problem !== undefined) this.#log.info("this host's record in etcd is renewed again");
      this.#problem = undefined;
    } catch (e) {
      if (isWeftError(e) && e.code === 'WEFT_HOST_CONFLICT') this.#say(messageOf(e), 'error');
      else this.#say(`cannot renew this host's record in etcd: ${messageOf(e)}`, 'warn');
    }
  }

  #once(warning: string): void {
    if (this.#said.has(warning)) return;
    this.#said.add(warning);
    this.#log.warn(warning);
  }

  #say(problem: string, level: 'warn' | 'error'): void {
    if (problem === this.#problem) return;
    this.#problem = problem;
    this.#log[level](problem);
  }
}

/**
 * A lease source whose `acquire` first waits for this host's identity: reads (the config, for readiness)
 * go ahead, no lease is taken or reused before the address is known to be this host's alone.
 */
export function gateLeaseSource(source: LeaseSource, identity: HostIdentity): LeaseSource {
  return {
    readConfig: () => source.readConfig(),
    get configHint() {
      return source.configHint;
    },
    get configWhere() {
      return source.configWhere;
    },
    acquire: async (spec, signal) => {
      await identity.whenClaimed(signal);
      return source.acquire(spec, signal);
    },
    get held() {
      return source.held;
    },
    get state() {
      return source.state;
    },
    watchPeers: (h) => source.watchPeers(h),
    release: () => source.release(),
    stop: () => source.stop(),
  };
}
