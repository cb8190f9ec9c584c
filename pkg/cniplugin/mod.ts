/**
 * weft's CNI plugin, one short-lived process per verb started by the runtime: ADD, DEL, CHECK, GC and STATUS
 * over the attachment core (pkg/attach, through its mod.ts). The daemon never loads this folder.
 */
export { weftPlugin, ABOUT } from './plugin.ts';
