export { weftPlugin, ABOUT } from './plugin.ts';
export { parseAttachConfig, DEFAULT_DATA_DIR, type AttachConfig } from './config.ts';
export { defaultSubnetFile } from './names.ts';
