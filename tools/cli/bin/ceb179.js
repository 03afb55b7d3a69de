#!/usr/bin/env node
// The `ceb179` command (npx ceb179 …): a committed, executable shim, because the compiled
// dist/cli.js does not exist yet when npm links workspace bins at install time.
void require('../dist/cli.js').main();
