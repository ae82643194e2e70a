// Preloaded with `node --require` by tests that check a command answers without DuckDB: loading
// @duckdb/node-api (or its bindings) then fails, so a command that still needs it exits with an error.
'use strict';
const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (/^@duckdb\//.test(request)) throw new Error(`DuckDB loaded: ${request}`);
  return load.call(this, request, ...rest);
};
