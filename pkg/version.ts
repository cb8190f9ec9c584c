/** The weft version, replaced at build time from package.json; "dev" when run from source. */
declare const __WEFT_VERSION__: string | undefined;
export const VERSION: string = typeof __WEFT_VERSION__ === 'string' ? __WEFT_VERSION__ : 'dev';
