export * from './constants.ts';
export { AttrWriter, Attrs, AttrParseError, encodeAttr } from './attrs.ts';
export { encodeMessage, parseMessages, errnoOf, MessageParseError, NLMSG_HDRLEN, type RawMessage } from './message.ts';
export * from './link.ts';
export * from './addr.ts';
export * from './route.ts';
export * from './neigh.ts';
