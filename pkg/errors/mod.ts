export { CODES, type WeftCode } from './codes.ts';
export { WeftError, isWeftError, messageOf, causeChain, type WeftErrorOptions } from './weft-error.ts';
