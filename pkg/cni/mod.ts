export { dispatch, type CniPlugin, type CniRequest } from './dispatch.ts';
export { processIo, writeAllSync, type CniIo } from './io.ts';
export { readEnv, type CniEnv, type Verb } from './env.ts';
export { parseCniArgs } from './args.ts';
export { renderResult, readPrevResult, mergeResults } from './result.ts';
export { SUPPORTED_VERSIONS, CURRENT_VERSION, compareVersions, isSupported, type CniVersion } from './versions.ts';
export type { CniDns, CniInterface, CniIPConfig, CniResult, CniRoute, GcAttachment } from './types.ts';
export { CniRuntime, PluginError, DEFAULT_CNI_PATH, type Conflist, type RuntimeAttachment, type RuntimeOptions } from './runtime.ts';
