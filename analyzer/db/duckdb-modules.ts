/**
 * @duckdb/node-api and its bindings, loaded with require() rather than `import`. Node 20's ESM loader
 * runs cjs-module-lexer over every CommonJS file an `import` reaches, to find its export names, and
 * node-api is about 120 such files: measured on this machine, `import('@duckdb/node-api')` took
 * 300-600 ms against 95-170 ms for `require('@duckdb/node-api')`, paid by every analyzer command at
 * start-up (bench/NOTES.md). Types still come from the packages' declarations.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

type Api = typeof import('@duckdb/node-api');
const api = require('@duckdb/node-api') as Api;

/** The native bindings (the C API one function per call), as `import duckdb from '@duckdb/node-bindings'` gave. */
export const duckdb = require('@duckdb/node-bindings') as typeof import('@duckdb/node-bindings');

export const { DuckDBInstance, DuckDBDataChunk, DuckDBTypeId } = api;
export type DuckDBInstance = import('@duckdb/node-api').DuckDBInstance;
export type DuckDBDataChunk = import('@duckdb/node-api').DuckDBDataChunk;
export type DuckDBTypeId = import('@duckdb/node-api').DuckDBTypeId;
export type {
  DuckDBAppender, DuckDBConnection, DuckDBResult, DuckDBResultReader,
} from '@duckdb/node-api';
