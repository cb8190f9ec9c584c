/**
 * Holds this host's subnet lease for one network (the choice is choose.ts's, a dual-stack key's IPv6 half
 * choose6.ts's; docs/adr/0002):
 *
 *   acquire   create only with compare-and-create, and only while the network's config exists; on losing a
 *             race exclude that subnet and ask again (flanneld exits instead); an exhausted network, or this
 *             host's subnet held elsewhere while its pods use it, is waited on with the reason, not fatal.
 *   renew     keep the lease alive `margin` before it expires (a reservation, having none, never expires); a
 *             failed renewal is retried every minute, as flanneld does.
 *   take back if our key disappears (deleted by hand, or the store let the lease lapse), create the same
 *             subnet again; pods keep their addresses. If another host holds it meanwhile, stay not ready and
 *             say so until an operator resolves it. If the network's config is gone, the network was removed:
 *             nothing is taken back (its keys must not outlive it).
 *
 * Time is the injected clock's; stopping is the signal's. Every failure is a typed error or a logged line.
 */
import { encodeLeaseAttrs } from '../../flannel-compat/lease-attrs.ts';
import type { FamilyConfig } from '../../flannel-compat/network-config.ts';
import { makeSubnetKey } from '../../flannel-compat/subnet-key.ts';
import { messageOf, WeftError } from '../errors/mod.ts';
import type { Logger } from '../log/logger.ts';
import { chooseSubnet } from './choose.ts';
import { chooseIPv6Part } from './choose6.ts';
import type { Clock, Timer } from './clock.ts';
import { decodeLease, isReservation, leaseOfFamily, NO_IPV4_SUBNET, type RawKv, type SubnetLease } from './lease.ts';
import type { SubnetStore } from './store.ts';

const RENEW_RETRY_MS = 60_000;
const TAKE_BACK_RETRY_MS = 10_000;
const WAIT_RETRY_MS = 10_000;

export interface HeldLease {
  readonly key: string;
  readonly subnet: string;
  /** The IPv6 half of a dual-stack key. */
  readonly subnet6?: string | undefined;
  readonly leaseId: string;
  readonly modRevision: string;
  /** epoch ms; Infinity for a reservation. */
  readonly expiresAt: number;
}

export interface KeeperSpec {
  readonly config: FamilyConfig;
  /** The network's IPv6 half, when it is dual-stack. */
  readonly config6?: FamilyConfig | undefined;
  /** The subnet file's FLANNEL_IPV6_SUBNET. */
  readonly previousSubnet6?: string | undefined;
  readonly publicIP: string;
  /** The lease value to publish (encoded LeaseAttrs). */
  readonly value: string;
  readonly previousSubnet: string | undefined;
  /** Containers on this host are numbered from `previousSubnet`: never move away from it. */
  readonly pinned: boolean;
  readonly renewMarginMs: number;
  /** Seconds on a new lease (flanneld: 24 h). */
  readonly ttlSeconds: number;
}

export type KeeperState = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface KeeperDeps {
  readonly log: Logger;
  readonly clock: Clock;
  readonly signal: AbortSignal;
}

export class LeaseKeeper {
  readonly #store: SubnetStore;
  readonly #spec: KeeperSpec;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #signal: AbortSignal;
  #held: HeldLease | undefined;
  #renewal: Timer | undefined;
  #state: KeeperState = { ok: false, reason: 'no lease yet' };
  #takingBack = false;
  readonly #ignoredSaid = new Set<string>();

  constructor(store: SubnetStore, spec: KeeperSpec, deps: KeeperDeps) {
    this.#store = store;
    this.#spec = spec;
    this.#log = deps.log;
    this.#clock = deps.clock;
    this.#signal = deps.signal;
    this.#signal.addEventListener('abort', () => this.#renewal?.cancel(), { once: true });
  }

  get held(): HeldLease | undefined {
    return this.#held;
  }

  get state(): KeeperState {
    return this.#state;
  }

  /** Resolves once this host holds a lease; retries, saying why, until it does or the signal aborts. */
  async acquire(): Promise<HeldLease> {
    const exclude = new Set<string>();
    const exclude6 = new Set<string>();
    let said = '';
    for (let attempt = 1; ; attempt++) {
      this.#signal.throwIfAborted();
      let wait = 0;
      try {
        const held = await this.#tryAcquire(exclude, exclude6);
        if (held) {
          this.#held = held;
          this.#state = { ok: true };
          this.#scheduleRenewal();
          return held;
        }
      } catch (e) {
        this.#signal.throwIfAborted();
        wait = e instanceof WeftError && e.code === 'WEFT_LEASE_UNAVAILABLE' ? WAIT_RETRY_MS : Math.min(1000 * attempt, 10_000);
        this.#state = { ok: false, reason: messageOf(e) };
        if (messageOf(e) !== said) this.#log.warn(`cannot hold a lease yet: ${messageOf(e)}; retrying every ${wait / 1000} s or sooner`);
        said = messageOf(e);
      }
      if (wait > 0) await this.#clock.sleep(wait, this.#signal);
    }
  }

  async #tryAcquire(exclude: Set<string>, exclude6: Set<string>): Promise<HeldLease | undefined> {
    const listing = await this.#store.listSubnets();
    const s = this.#spec;
    // An IPv6-only network's config is its IPv6 one: keys are chosen by their IPv6 half.
    const family = s.config.subnetMin.includes(':') ? 6 : 4;
    const leases: SubnetLease[] = [];
    for (const kv of listing.kvs) {
      const d = decodeLease(this.#store.subnetsPrefix, kv);
      const l = d.ok ? leaseOfFamily(d.lease, family) : undefined;
      if (l) leases.push(l);
    }
    const { choice, incompatible, ignored, kept } = chooseSubnet({
      config: s.config,
      config6: s.config6,
      leases,
      publicIP: s.publicIP,
      previousSubnet: s.previousSubnet,
      pinned: s.pinned,
      exclude,
    });
    for (const { lease, why } of ignored) {
      if (this.#ignoredSaid.has(lease.key)) continue;
      this.#ignoredSaid.add(lease.key);
      this.#log.warn(`ignoring ${lease.key}, which carries this host's address ${s.publicIP}: ${why}`);
    }
    for (const old of incompatible.filter((l) => !isReservation(l))) {
      this.#log.info("deleting this host's lease that no longer fits the network config", { key: old.key });
      await this.#store.deleteSubnet(old.key);
    }
    switch (choice.kind) {
      case 'reuse': {
        const l = choice.lease;
        if (isReservation(l)) {
          if (await this.#publish(l.key, '0', l.modRevision, l))
            return this.#hold(l.key, l.subnet, l.ipv6Subnet, '0', Infinity, 'reservation', l.modRevision);
          return undefined;
        }
        const ttl = await this.#store.leaseTTL(l.leaseId);
        if (ttl <= 0) return undefined; // the key goes with its lease; list again
        if (!(await this.#publish(l.key, l.leaseId, l.modRevision, l))) return undefined;
        return this.#hold(
          l.key,
          l.subnet,
          l.ipv6Subnet,
          l.leaseId,
          this.#clock.now() + ttl * 1000,
          choice.why === 'previous' ? "reused (the subnet file's)" : 'reused',
          l.modRevision,
        );
      }
      case 'create': {
        const v6 = s.config6 && chooseIPv6Part({ config: s.config6, leases: kept, previous: s.previousSubnet6, exclude: exclude6 });
        if (v6?.kind === 'exhausted')
          throw new WeftError(
            'WEFT_LEASE_UNAVAILABLE',
            `no free IPv6 subnet left in ${s.config6!.network} (between ${s.config6!.subnetMin} and ${s.config6!.subnetMax}); ` +
              'free a stale lease or widen the network',
          );
        const name = family === 6 ? makeSubnetKey(NO_IPV4_SUBNET, choice.subnet) : makeSubnetKey(choice.subnet, v6?.subnet);
        const key = `${this.#store.subnetsPrefix}/${name}`;
        const r = await this.#store.createSubnet(key, s.value, s.ttlSeconds);
        if (!r.created) {
          if (r.why === 'no-config')
            throw new WeftError(
              'WEFT_LEASE_UNAVAILABLE',
              `the network's config ${this.#store.configKey} is gone; no lease is taken under a removed network`,
            );
          this.#log.info('another host took the subnet first; choosing again', { subnet: choice.subnet });
          exclude.add(choice.subnet);
          return undefined;
        }
        const got = await this.#store.getSubnet(key);
        if (v6 && (await this.#lostIPv6Race(key, v6.subnet, got))) {
          exclude6.add(v6.subnet);
          await this.#store.revoke(r.leaseId);
          return undefined;
        }
        return this.#hold(
          key,
          choice.subnet,
          v6?.subnet,
          r.leaseId,
          this.#clock.now() + r.ttl * 1000,
          choice.why === 'previous' ? "the subnet file's, created again" : 'new',
          got?.modRevision,
        );
      }
      case 'held-elsewhere':
        throw new WeftError(
          'WEFT_LEASE_UNAVAILABLE',
          `this host's subnet ${choice.subnet} (its containers are numbered from it) is held by ${choice.holder.attrs.publicIP} ` +
            `(${choice.holder.key}); this host waits rather than renumber running containers: ` +
            "delete that key if it is stale, or remove this host's containers",
        );
      case 'exhausted':
        throw new WeftError(
          'WEFT_LEASE_UNAVAILABLE',
          `no free subnet left in ${s.config.network} (between ${s.config.subnetMin} and ${s.config.subnetMax}); ` +
            'free a stale lease or widen the network',
        );
    }
  }

  /**
   * Whether another key took the same IPv6 subnet at the same time: compare-and-create guards the key, and two
   * keys with different IPv4 halves may carry one IPv6 half. The later write (the higher revision) gives way.
   */
  async #lostIPv6Race(key: string, subnet6: string, mine: RawKv | undefined): Promise<boolean> {
    const rev = BigInt(mine?.modRevision ?? '0');
    for (const kv of (await this.#store.listSubnets()).kvs) {
      const d = decodeLease(this.#store.subnetsPrefix, kv);
      if (!d.ok || kv.key === key || d.lease.ipv6Subnet !== subnet6 || BigInt(kv.modRevision) > rev) continue;
      this.#log.info('another host took the IPv6 subnet at the same time; choosing again', { subnet6, holder: kv.key });
      return true;
    }
    return false;
  }

  /** Rewrites our value on an existing key if it differs (a new VTEP MAC); false when someone changed it first. */
  async #publish(key: string, leaseId: string, modRevision: string, current: SubnetLease): Promise<boolean> {
    const a = current.attrs;
    const published =
      a.vxlan &&
      encodeLeaseAttrs({
        publicIP: a.publicIP,
        ...(a.publicIPv6 && { publicIPv6: a.publicIPv6 }),
        vxlan: a.vxlan,
        ...(a.vxlanV6 && { vxlanV6: a.vxlanV6 }),
      });
    if (published === this.#spec.value) return true;
    return this.#store.updateSubnet(key, this.#spec.value, leaseId, modRevision);
  }

  #hold(
    key: string,
    subnet: string,
    subnet6: string | undefined,
    leaseId: string,
    expiresAt: number,
    how: string,
    modRevision = '0',
  ): HeldLease {
    this.#log.info('lease held', {
      subnet,
      ...(subnet6 && { subnet6 }),
      how,
      expires: Number.isFinite(expiresAt) ? new Date(expiresAt).toISOString() : 'never (reservation)',
    });
    return { key, subnet, ...(subnet6 && { subnet6 }), leaseId, modRevision, expiresAt };
  }

  #scheduleRenewal(delay?: number): void {
    this.#renewal?.cancel();
    const held = this.#held;
    if (this.#signal.aborted || !held || !Number.isFinite(held.expiresAt)) return;
    // A margin as long as the lease itself (a short --subnet-lease-ttl) would renew without pause: half then.
    const ttlMs = this.#spec.ttlSeconds * 1000;
    const margin = this.#spec.renewMarginMs < ttlMs ? this.#spec.renewMarginMs : ttlMs / 2;
    const wait = delay ?? Math.max(0, held.expiresAt - margin - this.#clock.now());
    this.#renewal = this.#clock.timer(() => void this.renew(), wait);
  }

  /** Keeps the lease alive now. */
  async renew(): Promise<void> {
    const held = this.#held;
    if (!held || isReservation(held) || this.#signal.aborted) return;
    try {
      const ttl = await this.#store.keepAlive(held.leaseId);
      if (ttl === undefined) {
        this.#log.warn("the store no longer has this host's lease; taking the subnet back", { subnet: held.subnet });
        await this.takeBack();
        return;
      }
      this.#held = { ...held, expiresAt: this.#clock.now() + ttl * 1000 };
      this.#log.info('lease renewed', { subnet: held.subnet, ttl });
      this.#scheduleRenewal();
    } catch (e) {
      this.#log.warn(`lease renewal failed: ${messageOf(e)}; trying again in 1 min`, { subnet: held.subnet });
      this.#scheduleRenewal(RENEW_RETRY_MS);
    }
  }

  /** Our key was seen with this value: remember its revision; rewrite it if someone else's value replaced ours. */
  async ownPut(kv: RawKv): Promise<void> {
    const held = this.#held;
    if (!held) return;
    this.#held = { ...held, modRevision: kv.modRevision, leaseId: kv.leaseId };
    if (kv.value !== this.#spec.value) {
      this.#log.warn("this host's lease was overwritten; publishing our value again", { key: kv.key });
      await this.#store
        .updateSubnet(kv.key, this.#spec.value, kv.leaseId, kv.modRevision)
        .catch((e: unknown) => this.#log.warn(messageOf(e)));
    }
  }

  /** Our key is gone (deleted, or its lease lapsed): create the same subnet again, while the network exists. */
  async takeBack(): Promise<void> {
    const held = this.#held;
    if (!held || this.#takingBack || this.#signal.aborted) return;
    this.#takingBack = true;
    try {
      while (!this.#signal.aborted) {
        try {
          const r = await this.#store.createSubnet(held.key, this.#spec.value, this.#spec.ttlSeconds);
          if (r.created) {
            this.#held = { ...held, leaseId: r.leaseId, expiresAt: this.#clock.now() + r.ttl * 1000 };
            this.#state = { ok: true };
            this.#log.info("took this host's subnet back", { subnet: held.subnet });
            this.#scheduleRenewal();
            return;
          }
          if (r.why === 'no-config') {
            this.#state = { ok: false, reason: `the network's config ${this.#store.configKey} is gone (the network was removed)` };
            this.#log.info("not taking the subnet back: the network's config is gone", { subnet: held.subnet });
            return;
          }
          const holder = await this.#store.getSubnet(held.key);
          const d = holder && decodeLease(this.#store.subnetsPrefix, holder);
          if (d?.ok && d.lease.attrs.publicIP === this.#spec.publicIP) {
            await this.ownPut(holder!);
            this.#state = { ok: true };
            return;
          }
          const who = d?.ok ? d.lease.attrs.publicIP : 'another writer';
          this.#state = {
            ok: false,
            reason:
              `subnet ${held.subnet} of this host is now held by ${who}; ` +
              "this host's pods keep their addresses until an operator frees it or restarts them",
          };
          this.#log.error(this.#state.reason);
        } catch (e) {
          this.#state = { ok: false, reason: `cannot take subnet ${held.subnet} back: ${messageOf(e)}` };
          this.#log.warn(this.#state.reason);
        }
        await this.#clock.sleep(TAKE_BACK_RETRY_MS, this.#signal).catch(() => {});
      }
    } finally {
      this.#takingBack = false;
    }
  }

  /** Gives the lease up (its network was removed): revoked, so nothing of it stays in the store. */
  async release(): Promise<void> {
    this.#renewal?.cancel();
    const held = this.#held;
    this.#held = undefined;
    if (held && !isReservation(held)) await this.#store.revoke(held.leaseId);
  }
}
