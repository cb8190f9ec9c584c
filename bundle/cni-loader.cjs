'use strict';
/**
 * Runs the CNI plugin's bundle (weft-cni.cjs) with a V8 code cache per verb. Node's own compile cache is made
 * when a file is compiled, before it runs, so it holds the bundle's top level and none of the functions a verb
 * then compiles lazily: every ADD compiled the same few hundred functions again. Here the cache is written
 * when the process exits, after the verb ran, so the next ADD finds its functions compiled (measured: about
 * 4 ms less per ADD and DEL). One file per verb, because each verb compiles different code; a cache V8
 * rejects (another Node, other flags, another bundle) is written anew. Written to a temporary name, then
 * renamed, so concurrent first runs never leave half a file.
 *
 * The bundle's require() serves Node's built-in modules directly; a resolving require (node_modules) is made
 * only if the bundle asks for something else, since making one costs over a millisecond. Both launchers
 * (bundle/sea.ts, bundle/build.ts) inline this file rather than load it, which saves resolving a module.
 */
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { createRequire } = require('node:module');

module.exports = function runCni(dir, cacheDir) {
  // VERSION, the runtime's most frequent call, has a bundle of a few KiB to itself.
  const file = path.join(dir, process.env.CNI_COMMAND === 'VERSION' ? 'weft-cni-version.cjs' : 'weft-cni.cjs');
  const command = process.env.CNI_COMMAND || '';
  const cacheFile = path.join(cacheDir, `${path.basename(file, '.cjs')}.${/^[A-Z]{1,10}$/.test(command) ? command : 'OTHER'}.v8cache`);
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {}
  const source = fs.readFileSync(file, 'utf8');
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  if (cachedData === undefined || script.cachedDataRejected) process.once('exit', () => save(cacheFile, script));
  let resolving;
  const full = () => (resolving ??= createRequire(file));
  const req = (id) => process.getBuiltinModule(id) ?? full()(id);
  req.resolve = (id, options) => full().resolve(id, options);
  const m = { exports: {}, filename: file, id: file, require: req };
  script.runInThisContext()(m.exports, req, m, file, path.dirname(file));
};

function save(cacheFile, script) {
  const tmp = `${cacheFile}.${process.pid}`;
  try {
    fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
    fs.renameSync(tmp, cacheFile);
  } catch {
    try {
      fs.unlinkSync(tmp);
    } catch {}
  }
}
