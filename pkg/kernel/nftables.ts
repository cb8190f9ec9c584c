/**
 * nftables set elements added over nfnetlink, one transaction: what `nft add element` does, without starting
 * a process. The CNI plugin adds its new port to the port guard this way on every ADD (pkg/attach/guard.ts),
 * where a `nft` process cost more than the rest of the guard's work (docs/adr/0010). Everything else weft does
 * with nftables stays whole tables through `nft -f` (pkg/firewall).
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
  NFT_NEWSETELEM,
} from '../rtnl/nftables.ts';
import { NLM_F } from '../rtnl/constants.ts';
import { ErrnoError, KernelError } from './errors.ts';
import { RtSocket } from './socket.ts';

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
  async addElements(
    family: keyof typeof NFPROTO,
    table: string,
    sets: ReadonlyArray<{ set: string; keys: readonly Uint8Array[] }>,
  ): Promise<void> {
    const messages = sets
      .filter((s) => s.keys.length > 0)
      .map((s) => ({ type: NFT_NEWSETELEM, flags: NLM_F.CREATE, payload: encodeNewSetElems(family, table, s.set, s.keys) }));
    if (messages.length === 0) return;
    try {
      await this.#sock.batch({ type: NFNL_MSG_BATCH_BEGIN, payload: batchPayload() }, messages, {
        type: NFNL_MSG_BATCH_END,
        payload: batchPayload(),
      });
    } catch (e) {
      if (e instanceof ErrnoError) throw new KernelError('add set elements to', `${family} ${table}`, e.errno, e);
      throw e;
    }
  }
}
