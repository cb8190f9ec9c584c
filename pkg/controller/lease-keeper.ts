/**
 * Holds this host's subnet lease for one network (the policy is in docs/adr/0002 and pkg/lease/choose.ts):
 *
 *   acquire   reuse the lease carrying our PublicIP, else the previous subnet, else a random free one;
 *             create only with compare-and-create, and on losing a race exclude that subnet and ask again
 *             (flanneld exits instead); an out-of-subnets network is waited on, not fatal.
 *   renew     keep the etcd lease alive `margin` before it expires (a reservation, having none, never
 *             expires); a failed renewal is retried every minute, as flanneld does.
 *   take back if our key disappears (deleted by hand, or etcd let the lease lapse), create the same subnet
 *             again; pods on this host keep their addresses. If another host holds it meanwhile, stay not
 *             ready and say so, retrying, until an operator resolves it: renumbering live pods is not an
 *             option weft takes silently.
 */
import { messageOf } from '../errors/mod.ts';
import type { FamilyConfig } from '../../flannel-compat/network-config.ts';
import { encodeLeaseAttrs } from '../../flannel-compat/lease-attrs.ts';
import { makeSubnetKey } from '../../flannel-compat/subnet-key.ts';
import { chooseSubnet, decodeLease, isReservation, type RawKv, type SubnetLease } from '../lease/mod.ts';
import type { Logger } from '../log/logger.ts';
import type { SubnetRegistry } from '../store/mod.ts';

const RETRY_MS = 60_000;
const TAKE_BACK_RETRY_MS = 10_000;

export interface HeldLease {
  readonly key: string;
  readonly subnet: string;
  readonly leaseId: string;
  readonly modRevision: string;
  /** epoch ms; Infinity for a reservation. */
  readonly expiresAt: number;
}

export interface KeeperSpec {
  readonly config: FamilyConfig;
  readonly publicIP: string;
  /** The lease value to publish (encoded LeaseAttrs). */
  readonly value: string;
  readonly previousSubnet: string | undefined;
  readonly renewMarginMs: number;
  /** Seconds on a new etcd lease (flanneld: 24 h). */
  readonly ttlSeconds: number;
}

export type KeeperState = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export class LeaseKeeper {
  readonly #reg: SubnetRegistry;
  readonly #spec: KeeperSpec;
  readonly #log: Logger;
  #held: HeldLease | undefined;
  #timer: NodeJS.Timeout | undefined;
  #sleepTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  #state: KeeperState = { ok: false, reason: 'no lease yet' };
  #takingBack = false;

  constructor(registry: SubnetRegistry, spec: KeeperSpec, log: Logger) {
    this.#reg = registry;
    this.#spec = spec;
    this.#log = log;
  }

  get held(): HeldLease | undefined {
    return this.#held;
  }

  get state(): KeeperState {
    return this.#state;
  }

  /** Resolves once this host holds a lease; retries (with the reason logged) until it does. */
  async acquire(): Promise<HeldLease> {
    const exclude = new Set<string>();
    for (let attempt = 1; !this.#stopped; attempt++) {
      try {
        const held = await this.#tryAcquire(exclude);
        if (held) {
          this.#held = held;
          this.#state = { ok: true };
          this.#scheduleRenewal();
          return held;
        }
      } catch (e) {
        this.#state = { ok: false, reason: messageOf(e) };
        this.#log.warn(`cannot acquire a lease yet: ${messageOf(e)}`, { attempt });
        await this.#sleep(Math.min(1000 * attempt, 10_000));
      }
    }
    throw new Error('stopped');
  }

  async #tryAcquire(exclude: Set<string>): Promise<HeldLease | undefined> {
    const listing = await this.#reg.listSubnets();
    const leases: SubnetLease[] = [];
    for (const kv of listing.kvs) {
      const d = decodeLease(this.#reg.subnetsPrefix, kv);
      if (d.ok) leases.push(d.lease);
    }
    const { choice, incompatible } = chooseSubnet({ config: this.#spec.config, leases, publicIP: this.#spec.publicIP, previousSubnet: this.#spec.previousSubnet, exclude });
    for (const old of incompatible.filter((l) => !isReservation(l))) {
      this.#log.info('deleting this host\'s lease that no longer fits the network config', { key: old.key });
      await this.#reg.deleteSubnet(old.key);
    }
    switch (choice.kind) {
      case 'reuse': {
        const l = choice.lease;
        if (isReservation(l)) {
          if (await this.#publish(l.key, '0', l.modRevision, l)) return this.#hold(l.key, l.subnet, '0', Infinity, 'reservation');
          return undefined;
        }
        const ttl = await this.#reg.leaseTTL(l.leaseId);
        if (ttl <= 0) return undefined; // the key goes with its lease; list again
        if (!(await this.#publish(l.key, l.leaseId, l.modRevision, l))) return undefined;
        return this.#hold(l.key, l.subnet, l.leaseId, Date.now() + ttl * 1000, 'reused');
      }
      case 'create': {
        const key = `${this.#reg.subnetsPrefix}/${makeSubnetKey(choice.subnet)}`;
        const r = await this.#reg.createSubnet(key, this.#spec.value, this.#spec.ttlSeconds);
        if (!r.created) {
          this.#log.info('another host took the subnet first; choosing again', { subnet: choice.subnet });
          exclude.add(choice.subnet);
          return undefined;
        }
        const got = await this.#reg.getSubnet(key);
        return this.#hold(key, choice.subnet, r.leaseId, Date.now() + r.ttl * 1000, choice.why === 'previous' ? 'previous subnet' : 'new', got?.modRevision);
      }
      case 'exhausted':
        throw new Error(`no free subnet left in ${this.#spec.config.network} (between ${this.#spec.config.subnetMin} and ${this.#spec.config.subnetMax})`);
    }
  }

  /** Rewrites our value on an existing key if it differs (a new VTEP MAC); false when someone changed it first. */
  async #publish(key: string, leaseId: string, modRevision: string, current: SubnetLease): Promise<boolean> {
    const a = current.attrs;
    const published = a.vxlan && encodeLeaseAttrs({ publicIP: a.publicIP, ...(a.publicIPv6 && { publicIPv6: a.publicIPv6 }), vxlan: a.vxlan });
    if (published === this.#spec.value) return true;
    return this.#reg.updateSubnet(key, this.#spec.value, leaseId, modRevision);
  }

  #hold(key: string, subnet: string, leaseId: string, expiresAt: number, how: string, modRevision = '0'): HeldLease {
    this.#log.info('lease held', { subnet, how, expires: Number.isFinite(expiresAt) ? new Date(expiresAt).toISOString() : 'never (reservation)' });
    return { key, subnet, leaseId, modRevision, expiresAt };
  }

  #scheduleRenewal(delay?: number): void {
    clearTimeout(this.#timer);
    const held = this.#held;
    if (this.#stopped || !held || !Number.isFinite(held.expiresAt)) return;
    const wait = delay ?? Math.max(0, held.expiresAt - this.#spec.renewMarginMs - Date.now());
    this.#timer = setTimeout(() => void this.renew(), Math.min(wait, 2 ** 31 - 1));
    this.#timer.unref();
  }

  /** Keeps the etcd lease alive now. */
  async renew(): Promise<void> {
    const held = this.#held;
    if (!held || isReservation(held)) return;
    try {
      const ttl = await this.#reg.keepAlive(held.leaseId);
      if (ttl === undefined) {
        this.#log.warn('etcd no longer has this host\'s lease; taking the subnet back', { subnet: held.subnet });
        await this.takeBack();
        return;
      }
      this.#held = { ...held, expiresAt: Date.now() + ttl * 1000 };
      this.#log.info('lease renewed', { subnet: held.subnet, ttl });
      this.#scheduleRenewal();
    } catch (e) {
      this.#log.warn(`lease renewal failed: ${messageOf(e)}; trying again in 1 min`, { subnet: held.subnet });
      this.#scheduleRenewal(RETRY_MS);
    }
  }

  /** Our key was seen with this value: remember its revision; rewrite it if someone else's value replaced ours. */
  async ownPut(kv: RawKv): Promise<void> {
    const held = this.#held;
    if (!held) return;
    this.#held = { ...held, modRevision: kv.modRevision, leaseId: kv.leaseId };
    if (kv.value !== this.#spec.value) {
      this.#log.warn('this host\'s lease was overwritten; publishing our value again', { key: kv.key });
      await this.#reg.updateSubnet(kv.key, this.#spec.value, kv.leaseId, kv.modRevision).catch((e) => this.#log.warn(messageOf(e)));
    }
  }

  /** Our key is gone (deleted, or its lease lapsed): create the same subnet again. */
  async takeBack(): Promise<void> {
    const held = this.#held;
    if (!held || this.#takingBack || this.#stopped) return;
    this.#takingBack = true;
    try {
      while (!this.#stopped) {
        try {
          const r = await this.#reg.createSubnet(held.key, this.#spec.value, this.#spec.ttlSeconds);
          if (r.created) {
            this.#held = { ...held, leaseId: r.leaseId, expiresAt: Date.now() + r.ttl * 1000 };
            this.#state = { ok: true };
            this.#log.info('took this host\'s subnet back', { subnet: held.subnet });
            this.#scheduleRenewal();
            return;
          }
          const holder = await this.#reg.getSubnet(held.key);
          const d = holder && decodeLease(this.#reg.subnetsPrefix, holder);
          if (d?.ok && d.lease.attrs.publicIP === this.#spec.publicIP) {
            await this.ownPut(holder!);
            this.#state = { ok: true };
            return;
          }
          const who = d?.ok ? d.lease.attrs.publicIP : 'another writer';
          this.#state = { ok: false, reason: `subnet ${held.subnet} of this host is now held by ${who}; this host's pods keep their addresses until an operator frees it or restarts them` };
          this.#log.error(this.#state.reason);
        } catch (e) {
          this.#state = { ok: false, reason: `cannot take subnet ${held.subnet} back: ${messageOf(e)}` };
          this.#log.warn(this.#state.reason);
        }
        await this.#sleep(TAKE_BACK_RETRY_MS);
      }
    } finally {
      this.#takingBack = false;
    }
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#sleepTimer);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      this.#sleepTimer = setTimeout(r, ms);
    });
  }
}
