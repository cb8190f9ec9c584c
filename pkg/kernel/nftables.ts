/**
 * nftables set elements added and deleted over nfnetlink, one transaction: what `nft add element` and `nft
 * delete element` do, without starting a process. The CNI plugin adds its new port to the port guard this way on
 * every ADD (pkg/attach/guard.ts), where a `nft` process cost more than the rest of the guard's work; the daemon
 * changes the guard's quarantine and the VXLAN filter's peers so between its keeper passes, which block its
 * event loop for the length of three `nft` runs (docs/adr/0010). Whole tables stay `nft -f` (pkg/firewall).
 *
 *   nft add element bridge weft_guard ports { "veth0a0b0c0d" }      is what one set's keys equal.
 */
import {
  batchPayload,
  encodeNewSetElems,
  NETLINK_NETFILTER,
  NFNL_MSG_BATCH_BEGIN,
  NFNL_MSG_BATCH_END,
  type NFPROTO,
  NFT_DELSETELEM,
  NFT_NEWSETELEM,
} from '../rtnl/nftables.ts';
import { NLM_F } from '../rtnl/constants.ts';
import { ErrnoError, KernelError } from './errors.ts';
import { RtSocket } from './socket.ts';

/** Keys for one set. */
export interface SetKeys {
  readonly set: string;
  readonly keys: readonly Uint8Array[];
}

export class NfTables {
  readonly #sock: RtSocket;

  private constructor(sock: RtSocket) {
    this.#sock = sock;
  }

  /** A handle in the calling thread's current network namespace. */
  static open(): NfTables {
    return new NfTables(RtSocket.open(NETLINK_NETFILTER));
  }

  close(): void {
    this.#sock.close();
  }

  /**
   * Adds each set's keys (already laid out as the set's key: pkg/rtnl/nftables.ts) in one transaction; keys
   * already there are no error. Throws a KernelError carrying the errno (ENOENT: no such table or set).
   */
  addElements(family: keyof typeof NFPROTO, table: string, sets: readonly SetKeys[]): Promise<void> {
    return this.changeElements(family, table, { add: sets });
  }

  /**
   * Deletes `del` and adds `add` in one transaction: all or nothing. Deleting a key that is not there fails
   * the whole transaction with ENOENT (nft's `delete element` does the same), as does a missing table.
   */
  async changeElements(
    family: keyof typeof NFPROTO,
    table: string,
    o: { readonly add?: readonly SetKeys[]; readonly del?: readonly SetKeys[] },
  ): Promise<void> {
    const msgs = (sets: readonly SetKeys[], type: number, flags: number) =>
      sets.filter((s) => s.keys.length > 0).map((s) => ({ type, flags, payload: encodeNewSetElems(family, table, s.set, s.keys) }));
    const messages = [...msgs(o.del ?? [], NFT_DELSETELEM, 0), ...msgs(o.add ?? [], NFT_NEWSETELEM, NLM_F.CREATE)];
    if (messages.length === 0) return;
    try {
      await this.#sock.batch({ type: NFNL_MSG_BATCH_BEGIN, payload: batchPayload() }, messages, {
        type: NFNL_MSG_BATCH_END,
        payload: batchPayload(),
      });
    } catch (e) {
      if (e instanceof ErrnoError) throw new KernelError('change set elements of', `${family} ${table}`, e.errno, e);
      throw e;
    }
  }
}
