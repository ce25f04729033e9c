#!/usr/bin/env node
// The compiled daemon; `npm ci` builds dist/ (the package's prepare script).
import { main } from '../dist/src/daemon/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    console.error(`ladingd: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
