/**
 * One rtnetlink socket: request/ACK and dump, matched by sequence number. The socket belongs to the
 * namespace of the thread that created it, for its whole life (see netns.ts), so a handle for a container's
 * namespace is made once, inside `withNetns`, and then used with ordinary `await`s.
 *
 * Dumps are retried when the kernel flags them NLM_F_DUMP_INTR ("something changed during the dump so results
 * may be incomplete", as containernetworking/plugins' netlinksafe puts it): a dump taken while the table
 * changes is never silently partial.
 */
import { NETLINK_ROUTE, NLM_F, NLMSG } from '../rtnl/constants.ts';
import { encodeMessage, errnoOf, parseMessages, type RawMessage } from '../rtnl/message.ts';
import { ErrnoError } from './errors.ts';
import { openRawSocket, type RawSocket } from './native.ts';

const DUMP_ATTEMPTS = 5;
const REQUEST_TIMEOUT_MS = 10_000;
const ETIMEDOUT = 110;
const EINTR = 4;

interface Pending {
  readonly dump: boolean;
  readonly parts: RawMessage[];
  interrupted: boolean;
  readonly resolve: (msgs: RawMessage[]) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class RtSocket {
  readonly #raw: RawSocket;
  readonly #pending = new Map<number, Pending>();
  #seq = Math.floor(Math.random() * 0x7fffffff);
  #closed = false;
  #dumps: Promise<void> = Promise.resolve();
  /** Listeners for messages that answer no request (multicast notifications). */
  onNotification: ((m: RawMessage) => void) | undefined;
  /** Told of a socket error (ENOBUFS: notifications were dropped because they came faster than read). */
  onError: ((e: Error) => void) | undefined;

  private constructor(raw: RawSocket) {
    this.#raw = raw;
    raw.on('message', (buf) => this.#receive(buf));
    raw.on('error', (err) => {
      this.#failAll(err);
      this.onError?.(err);
    });
    raw.unref();
  }

  /** Opens a socket in the calling thread's current network namespace (rtnetlink, or another netlink family). */
  static open(protocol: number = NETLINK_ROUTE): RtSocket {
    return new RtSocket(openRawSocket(protocol, 1 << 20));
  }

  /**
   * Sends `messages` in one datagram between a batch's first and last message (nfnetlink's transactions: the
   * kernel applies all or none), each asking for an ACK; resolves once every one is ACKed, rejects with the
   * first error.
   */
  batch(
    begin: { type: number; payload: Uint8Array },
    messages: ReadonlyArray<{ type: number; flags: number; payload: Uint8Array }>,
    end: { type: number; payload: Uint8Array },
  ): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('netlink socket is closed'));
    const next = () => (this.#seq = (this.#seq + 1) >>> 0);
    const parts = [encodeMessage({ type: begin.type, flags: NLM_F.REQUEST, seq: next(), payload: begin.payload })];
    const acks = messages.map((m) => {
      const seq = next();
      parts.push(encodeMessage({ type: m.type, flags: NLM_F.REQUEST | NLM_F.ACK | m.flags, seq, payload: m.payload }));
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => this.#settle(seq, new ErrnoError(ETIMEDOUT)), REQUEST_TIMEOUT_MS);
        this.#pending.set(seq, { dump: false, parts: [], interrupted: false, resolve: () => resolve(), reject, timer });
      });
    });
    parts.push(encodeMessage({ type: end.type, flags: NLM_F.REQUEST, seq: next(), payload: end.payload }));
    const all = Promise.all(acks).then(() => undefined);
    this.#raw.ref();
    this.#raw.send(Buffer.concat(parts), (err) => {
      if (err) this.#failAll(err);
    });
    return all;
  }

  /** Sends a request with NLM_F_ACK; resolves with any reply messages once the kernel ACKs. */
  request(type: number, flags: number, payload: Uint8Array): Promise<RawMessage[]> {
    return this.#send(type, NLM_F.REQUEST | NLM_F.ACK | flags, payload, false);
  }

  /**
   * Dumps a table, retrying when the kernel reports the dump was interrupted by a change. The kernel runs one
   * dump per socket at a time (a second one gets EBUSY), so dumps are queued here.
   */
  dump(type: number, payload: Uint8Array): Promise<RawMessage[]> {
    const run = this.#dumps.then(() => this.#dumpNow(type, payload));
    this.#dumps = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async #dumpNow(type: number, payload: Uint8Array): Promise<RawMessage[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#send(type, NLM_F.REQUEST | NLM_F.DUMP, payload, true);
      } catch (e) {
        if (!(e instanceof ErrnoError && e.errno === EINTR) || attempt >= DUMP_ATTEMPTS) throw e;
      }
    }
  }

  /** Joins an rtnetlink multicast group (RTNLGRP_*); notifications go to `onNotification`. */
  subscribe(group: number): void {
    this.#raw.addMembership(group);
    this.#raw.ref();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#failAll(new Error('netlink socket closed'));
    this.#raw.close();
  }

  #send(type: number, flags: number, payload: Uint8Array, dump: boolean): Promise<RawMessage[]> {
    if (this.#closed) return Promise.reject(new Error('netlink socket is closed'));
    this.#seq = (this.#seq + 1) >>> 0;
    const seq = this.#seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.#settle(seq, new ErrnoError(ETIMEDOUT)), REQUEST_TIMEOUT_MS);
      this.#pending.set(seq, { dump, parts: [], interrupted: false, resolve, reject, timer });
      this.#raw.ref();
      this.#raw.send(encodeMessage({ type, flags, seq, payload }), (err) => {
        if (err) this.#settle(seq, err);
      });
    });
  }

  #receive(buf: Buffer): void {
    let msgs: RawMessage[];
    try {
      msgs = parseMessages(buf);
    } catch (e) {
      this.#failAll(e as Error);
      return;
    }
    for (const m of msgs) {
      const p = this.#pending.get(m.seq);
      if (!p) {
        this.onNotification?.(m);
        continue;
      }
      if (m.flags & NLM_F.DUMP_INTR) p.interrupted = true;
      if (m.type === NLMSG.ERROR) {
        const errno = errnoOf(m);
        this.#settle(m.seq, errno === 0 ? undefined : new ErrnoError(errno));
      } else if (m.type === NLMSG.DONE) {
        this.#settle(m.seq, p.interrupted ? new ErrnoError(EINTR) : undefined);
      } else if (m.type !== NLMSG.NOOP) {
        p.parts.push(m);
      }
    }
  }

  #settle(seq: number, err: Error | undefined): void {
    const p = this.#pending.get(seq);
    if (!p) return;
    this.#pending.delete(seq);
    clearTimeout(p.timer);
    if (this.#pending.size === 0 && !this.#closed) this.#raw.unref();
    if (err) p.reject(err);
    else p.resolve(p.parts);
  }

  #failAll(err: Error): void {
    for (const seq of [...this.#pending.keys()]) this.#settle(seq, err);
  }
}
