/**
 * The life of an attachment record while an attachment is made, written once for the CNI ADD and Docker's
 * Join. The record is created `adding` before anything else (O_EXCL: a second attachment of the same
 * container and interface is refused), each step saves what it is about to make into the record before the
 * kernel holds it and registers its undo, and the record becomes `added` last. Whatever point the process
 * dies at, the record (or, before it, nothing) tells DEL, Leave and the daemon's reboot reclaim what to
 * remove. On an error, every registered step is undone, the record's removal last (it was made first), and
 * the error is what the caller sees.
 */
import { WeftError } from '../errors/mod.ts';
import type { AttachmentRecord, NetworkState } from '../contract/mod.ts';
import { Undo } from './undo.ts';

/** What the steps of an attachment get: the rollback list and the record as last saved. */
export interface Attaching {
  readonly undo: Undo;
  readonly record: AttachmentRecord;
  /** Saves a newer version of the record (still `adding`), before the kernel change it announces. */
  save(next: AttachmentRecord): void;
}

export interface WriteAheadInput {
  readonly state: NetworkState;
  /** The new record, without what the lifecycle fills in (version, state, creation time). */
  readonly record: Omit<AttachmentRecord, 'v' | 'state' | 'created'>;
  /** The refusal when the attachment exists already (say how to clear it). */
  readonly exists: string;
}

/**
 * Runs `steps` under a write-ahead record. They return their value and what the `added` record holds beyond
 * the last saved one (the CNI result, for ADD).
 */
export async function writeAhead<T>(
  w: WriteAheadInput,
  steps: (a: Attaching) => Promise<{ readonly value: T; readonly added?: Partial<AttachmentRecord> }>,
): Promise<T> {
  const { state } = w;
  let record: AttachmentRecord = { v: 1, ...w.record, state: 'adding', created: new Date().toISOString() };
  if (!state.records.create(record)) throw new WeftError('WEFT_ALREADY_EXISTS', w.exists);
  const undo = new Undo();
  undo.push('remove the attachment record', () => state.records.remove(record.containerID, record.ifname));
  const attaching: Attaching = {
    undo,
    get record() {
      return record;
    },
    save(next) {
      record = next;
      state.records.save(next);
    },
  };
  try {
    const { value, added } = await steps(attaching);
    state.records.save({ ...record, ...added, state: 'added' });
    return value;
  } catch (e) {
    await undo.run();
    throw e;
  }
}
