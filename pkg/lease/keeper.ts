/**
 * Holds this host's subnet lease for one network (the choice is choose.ts's, a dual-stack key's IPv6 half
 * choose6.ts's; docs/adr/0002):
 *
 *   acquire   create only in a transaction that holds while nothing under the subnets prefix changed since the
 *             listing the subnet was chosen from, and only while the network's config exists; on losing a race
 *             list and choose again (flanneld exits instead); an exhausted network, or this host's subnet held
 *             elsewhere while its pods use it, is waited on with the reason, not fatal.
 *   renew     keep the lease alive `margin` before it expires (a reservation, having none, never expires); a
 *             failed renewal is retried every minute, as flanneld does.
 *   take back if our key disappears (deleted by hand, or the store let the lease lapse), create the same
 *             subnet again; pods keep their addresses. If another host holds it meanwhile, stay not ready and
 *             say so until an operator resolves it. If the network's config is gone, the network was removed:
 *             nothing is taken back (its keys must not outlive it).
 *
 * Every wait is jittered downwards (issue 28): up to a tenth of the margin off a renewal, a fifth off a retry,
 * half off an acquisition's backoff. Hosts that started together (a mass restart) or lost etcd together (an
 * outage) would otherwise renew and retry in lockstep for ever, each wave N requests in the same instant; with
 * the jitter they drift apart a little more on every renewal. A wait never grows, so no lease renews later.
 * A lost creation race waits a random time below 50 ms, doubling per loss up to 2 s, so hosts creating leases
 * at once (a network created everywhere) stop relisting and retrying in step.
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
import { sharesHalf } from './conflicts.ts';
import type { Clock, Timer } from './clock.ts';
import { decodeLease, isReservation, leaseOfFamily, NO_IPV4_SUBNET, type RawKv, type SubnetLease } from './lease.ts';
import type { SubnetStore } from './store.ts';
import { familyOf } from '../netaddr/family.ts';

const RENEW_RETRY_MS = 60_000;
const TAKE_BACK_RETRY_MS = 10_000;
const WAIT_RETRY_MS = 10_000;
/** After a lost race, a wait up to this long, doubling with each further loss up to the maximum. */
const LOST_RACE_MS = 50;
const LOST_RACE_MAX_MS = 2000;

export interface HeldLease {
  readonly key: string;
  readonly subnet: string;
  /** The IPv6 half of a dual-stack key. */
  readonly subnet6?: string | undefined;
  readonly leaseId: string;
  readonly modRevision: string;
  /** The revision that created the key: an earlier key sharing a half wins over it (conflicts.ts). */
  readonly createRevision?: string | undefined;
  /** epoch ms; Infinity for a reservation. */
  readonly expiresAt: number;
}

export interface KeeperSpec {
  /** The range the key's subnet is chosen from, of the key family: an IPv6-only network's is its IPv6 range. */
  readonly config: FamilyConfig;
  /** The network's IPv6 half, when it is dual-stack (never for an IPv6-only network: that is `config`). */
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
  /** Picks among free subnets (Math.random; a seeded one in property tests, so a failure replays). */
  readonly random?: () => number;
  /** Spreads the waits, in [0, 1) (Math.random; 0 in unit tests that check exact times). */
  readonly jitter?: () => number;
}

export class LeaseKeeper {
  readonly #store: SubnetStore;
  readonly #spec: KeeperSpec;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #signal: AbortSignal;
  readonly #random: (() => number) | undefined;
  readonly #jitter: () => number;
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
    this.#random = deps.random;
    this.#jitter = deps.jitter ?? Math.random;
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
    let said = '';
    let lost = 0;
    for (let attempt = 1; ; attempt++) {
      this.#signal.throwIfAborted();
      let wait = 0;
      try {
        const held = await this.#tryAcquire();
        if (held) {
          this.#held = held;
          this.#state = { ok: true };
          this.#scheduleRenewal();
          return held;
        }
        // Another host changed the leases first. When every host takes a lease at once (a network created,
        // a mass restart) they would all list and try again in step, each round won by one: O(hosts²)
        // requests. A random wait, doubling with each loss, spreads them out (bench:scale, issue 28).
        lost++;
        wait = this.#jitter() * Math.min(LOST_RACE_MS * 2 ** (lost - 1), LOST_RACE_MAX_MS);
      } catch (e) {
        this.#signal.throwIfAborted();
        const base = e instanceof WeftError && e.code === 'WEFT_LEASE_UNAVAILABLE' ? WAIT_RETRY_MS : Math.min(1000 * attempt, 10_000);
        wait = this.#spread(base, 0.5);
        this.#state = { ok: false, reason: messageOf(e) };
        if (messageOf(e) !== said) this.#log.warn(`cannot hold a lease yet: ${messageOf(e)}; retrying every ${base / 1000} s or sooner`);
        said = messageOf(e);
      }
      if (wait > 0) await this.#clock.sleep(wait, this.#signal);
    }
  }

  /** This network's leases in the listing, by the family that keys them (an IPv6-only network's by their IPv6 half). */
  #leasesOf(kvs: readonly RawKv[]): SubnetLease[] {
    const family = familyOf(this.#spec.config.network);
    return kvs.flatMap((kv) => {
      const d = decodeLease(this.#store.subnetsPrefix, kv);
      return (d.ok && leaseOfFamily(d.lease, family)) || [];
    });
  }

  async #tryAcquire(): Promise<HeldLease | undefined> {
    const listing = await this.#store.listSubnets();
    const s = this.#spec;
    const leases = this.#leasesOf(listing.kvs);
    const { choice, incompatible, giveWay, ignored, kept } = chooseSubnet({
      config: s.config,
      config6: s.config6,
      leases,
      publicIP: s.publicIP,
      previousSubnet: s.previousSubnet,
      pinned: s.pinned,
      random: this.#random,
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
    for (const { lease, to } of giveWay.filter((g) => !isReservation(g.lease))) {
      this.#log.warn(
        `lease conflict: deleting this host's ${lease.key}, which shares a subnet with ${to.key} ` +
          `(created earlier, by ${to.attrs.publicIP})`,
      );
      await this.#store.deleteSubnet(lease.key);
    }
    switch (choice.kind) {
      case 'reuse': {
        const l = choice.lease;
        if (isReservation(l)) {
          if (await this.#publish(l.key, '0', l.modRevision, l))
            return this.#hold({ ...l, subnet6: l.ipv6Subnet, expiresAt: Infinity }, 'reservation');
          return undefined;
        }
        const ttl = await this.#store.leaseTTL(l.leaseId);
        if (ttl <= 0) return undefined; // the key goes with its lease; list again
        if (!(await this.#publish(l.key, l.leaseId, l.modRevision, l))) return undefined;
        return this.#hold(
          { ...l, subnet6: l.ipv6Subnet, expiresAt: this.#clock.now() + ttl * 1000 },
          choice.why === 'previous' ? "reused (the subnet file's)" : 'reused',
        );
      }
      case 'create': {
        const v6 = s.config6 && chooseIPv6Part({ config: s.config6, leases: kept, previous: s.previousSubnet6, random: this.#random });
        if (v6?.kind === 'exhausted')
          throw new WeftError(
            'WEFT_LEASE_UNAVAILABLE',
            `no free IPv6 subnet left in ${s.config6!.network} (between ${s.config6!.subnetMin} and ${s.config6!.subnetMax}); ` +
              'free a stale lease or widen the network',
          );
        const family = familyOf(s.config.network);

        const name = family === 6 ? makeSubnetKey(NO_IPV4_SUBNET, choice.subnet) : makeSubnetKey(choice.subnet, v6?.subnet);
        const key = `${this.#store.subnetsPrefix}/${name}`;
        // After the deletions above the listing is stale by our own writes: a fresh revision bounds the compare.
        const asOf = incompatible.length + giveWay.length > 0 ? (await this.#store.listSubnets()).revision : listing.revision;
        const r = await this.#store.createSubnet(key, s.value, s.ttlSeconds, asOf);
        if (!r.created) {
          if (r.why === 'no-config')
            throw new WeftError(
              'WEFT_LEASE_UNAVAILABLE',
              `the network's config ${this.#store.configKey} is gone; no lease is taken under a removed network`,
            );
          this.#log.info('another host changed the leases first; choosing again', { subnet: choice.subnet });
          return undefined;
        }
        return this.#hold(
          {
            key,
            subnet: choice.subnet,
            subnet6: v6?.subnet,
            leaseId: r.leaseId,
            modRevision: r.revision,
            createRevision: r.revision,
            expiresAt: this.#clock.now() + r.ttl * 1000,
          },
          choice.why === 'previous' ? "the subnet file's, created again" : 'new',
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

  #hold(h: HeldLease, how: string): HeldLease {
    this.#log.info('lease held', {
      subnet: h.subnet,
      ...(h.subnet6 && { subnet6: h.subnet6 }),
      how,
      expires: Number.isFinite(h.expiresAt) ? new Date(h.expiresAt).toISOString() : 'never (reservation)',
    });
    return {
      key: h.key,
      subnet: h.subnet,
      ...(h.subnet6 && { subnet6: h.subnet6 }),
      leaseId: h.leaseId,
      modRevision: h.modRevision,
      createRevision: h.createRevision,
      expiresAt: h.expiresAt,
    };
  }

  #scheduleRenewal(delay?: number): void {
    this.#renewal?.cancel();
    const held = this.#held;
    if (this.#signal.aborted || !held || !Number.isFinite(held.expiresAt)) return;
    // A margin as long as the lease itself (a short --subnet-lease-ttl) would renew without pause: half then.
    const ttlMs = this.#spec.ttlSeconds * 1000;
    const margin = this.#spec.renewMarginMs < ttlMs ? this.#spec.renewMarginMs : ttlMs / 2;
    const wait = delay ?? Math.max(0, held.expiresAt - margin - this.#clock.now() - this.#jitter() * margin * 0.1);
    this.#renewal = this.#clock.timer(() => void this.renew(), wait);
  }

  /** `ms` less up to `fraction` of it, at random: see the header. */
  #spread(ms: number, fraction: number): number {
    return ms * (1 - fraction * this.#jitter());
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
      this.#scheduleRenewal(this.#spread(RENEW_RETRY_MS, 0.2));
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

  /**
   * Our key is gone (deleted, or its lease lapsed): create the same key again, while the network exists and no
   * other key holds either half, under the same transaction rule as a new lease.
   */
  async takeBack(): Promise<void> {
    const held = this.#held;
    if (!held || this.#takingBack || this.#signal.aborted) return;
    this.#takingBack = true;
    try {
      while (!this.#signal.aborted) {
        try {
          const listing = await this.#store.listSubnets();
          const same = listing.kvs.find((kv) => kv.key === held.key);
          const d = same && decodeLease(this.#store.subnetsPrefix, same);
          if (d?.ok && d.lease.attrs.publicIP === this.#spec.publicIP) {
            await this.ownPut(same!);
            this.#state = { ok: true };
            return;
          }
          const holder = same
            ? undefined
            : this.#leasesOf(listing.kvs).find((l) => sharesHalf(l, { subnet: held.subnet, ipv6Subnet: held.subnet6 }));
          if (!same && !holder) {
            const r = await this.#store.createSubnet(held.key, this.#spec.value, this.#spec.ttlSeconds, listing.revision);
            if (r.created) {
              this.#held = {
                ...held,
                leaseId: r.leaseId,
                modRevision: r.revision,
                createRevision: r.revision,
                expiresAt: this.#clock.now() + r.ttl * 1000,
              };
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
            continue; // the leases changed since the listing: look again
          }
          const who = holder ? `${holder.attrs.publicIP} (${holder.key})` : d?.ok ? d.lease.attrs.publicIP : 'another writer';
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
