#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/ by `npm run build`.
'use strict';
const path = require('path');
const fs = require('fs');
const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write('looplag: not built yet; run `npm run build` first\n');
  process.exit(1);
}
require(cli).runCli();
