export {
  decodeSegment,
  errorShape,
  guard,
  guardedServer,
  HttpError,
  DISCARD_BYTES,
  MAX_BODY_BYTES,
  quoted,
  readBody,
  readJsonObject,
  requestTarget,
  sendJson,
  type ErrorShape,
  type GuardOptions,
} from './guard.ts';
export { listenUnix } from './unix-listen.ts';
