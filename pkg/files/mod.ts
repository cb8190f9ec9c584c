export { ensureDir, writeFileAtomic, overwriteInPlace, createExclusive, readIfExists, removeIfExists, listDir } from './files.ts';
