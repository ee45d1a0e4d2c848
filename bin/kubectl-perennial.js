#!/usr/bin/env node
// kubectl-perennial's launcher: the command npm puts on PATH (package.json "bin"), so `kubectl perennial ...` finds
// it after `npm install -g`. It checks the Node version before loading the bundle (dist/kubectl-perennial, built by
// `npm run build` or scripts/pack-kubectl-perennial.mjs), whose syntax an older Node would fail on without a reason.
const major = Number(process.versions.node.split('.')[0]);
if (major < 20) {
  process.stderr.write(`kubectl-perennial needs Node.js 20 or later; this is ${process.versions.node}\n`);
  process.exit(1);
}
await import('../dist/kubectl-perennial/main.js');
