/**
 * A short per-run suffix for every namespace, link and directory a test run makes, so runs never collide
 * and leftovers are attributable. Short because interface names have 15 bytes: `wv<run><tag>` fits.
 */
export const RUN_ID: string = process.env.WEFT_TEST_RUN ?? Math.random().toString(36).slice(2, 6);
process.env.WEFT_TEST_RUN = RUN_ID;

/** The prefix of every named network namespace this run creates. */
export const NETNS_PREFIX = `weft-t-${RUN_ID}-`;
