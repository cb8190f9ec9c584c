export * from './family.ts';
export * from './ip.ts';
export * from './cidr.ts';
export * from './mac.ts';
export * from './result.ts';
