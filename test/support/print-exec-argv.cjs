// Preloaded with NODE_OPTIONS=--require=... by test/readme.test.ts: shows which options Node was started with.
process.stderr.write(`execArgv: ${JSON.stringify(process.execArgv)}\n`);
