export { ensureDir, writeFileAtomic, createExclusive, readIfExists, removeIfExists, listDir } from './files.ts';
