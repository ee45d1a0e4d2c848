// One esbuild bundle per program: dist/<program>/main.js (ESM, platform node, target node20), and one beside it per
// worker thread the program starts (`workers`: dist/<program>/<name>.js, found by the program next to its main.js).
// Add a program by adding an entry to `programs`. Packages listed in a program's `external` stay out of the bundle and are
// installed in that program's image from its package.json (trainer-image/, server-image/): the TensorFlow.js
// packages, because the native backends (tfjs-node, tfjs-node-gpu) must share one tfjs instance with the
// bundle and the WASM backend loads its .wasm files from its package folder.
// Usage: node scripts/bundle.mjs [program...]   (all programs when none is named)
//        BUNDLE_OUT_DIR=<dir inside the repo> puts the bundles there instead of dist/ (tests use a private one).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tfjs = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];

/** @type {{ name: string, entry: string, external: string[], workers?: string[], assets?: string[], minifyWhitespace?: boolean }[]} */
const programs = [
  // Without whitespace and comments: V8 keeps a bundle's whole source in the heap for as long as the process runs,
  // and a comment's one non-Latin-1 character (a dependency's '—') makes it two bytes a character: 8.2 MB of the
  // operator's heap as it was, 2.9 MB so (idle RSS 77 -> 72 MB here; decision 0018). Stack traces map through main.js.map.
  { name: 'operator', entry: 'src/operator/main.ts', external: [], minifyWhitespace: true },
  // The kubectl plugin; `npm install -g` (package.json bin) puts kubectl-perennial on PATH.
  { name: 'kubectl-perennial', entry: 'src/cli/main.ts', external: [] },
  { name: 'trainer', entry: 'src/trainer/main.ts', external: tfjs },
  // The gRPC transport loads its .proto files at start from beside main.js (src/server/oip/grpc-proto.ts); the Kafka
  // sink starts its sender thread from kafka-worker.js beside main.js (src/server/kafka-sink.ts).
  {
    name: 'server', entry: 'src/server/main.ts', external: tfjs, copyWasm: true, workers: ['src/server/kafka-worker.ts'],
    assets: ['src/server/oip/grpc_predict_v2.proto', 'src/server/oip/grpc_health_v1.proto'],
  },
];

// CommonJS dependencies (winston, minio's helpers) call require(); give the ESM bundle one.
const banner = "import { createRequire as __perennialCreateRequire } from 'node:module'; const require = __perennialCreateRequire(import.meta.url);";

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !programs.some((p) => p.name === w));
if (unknown.length > 0) {
  console.error(`unknown program(s): ${unknown.join(', ')}; known: ${programs.map((p) => p.name).join(', ')}`);
  process.exit(2);
}
for (const p of programs.filter((x) => wanted.length === 0 || wanted.includes(x.name))) {
  const outdir = join(process.env.BUNDLE_OUT_DIR ? join(root, process.env.BUNDLE_OUT_DIR) : join(root, 'dist'), p.name);
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  for (const [entry, outfile] of [[p.entry, 'main.js'], ...(p.workers ?? []).map((w) => [w, w.split('/').pop().replace(/\.ts$/, '.js')])]) {
    await build({
      entryPoints: [join(root, entry)],
      outfile: join(outdir, outfile),
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external: p.external,
      banner: { js: banner },
      sourcemap: 'linked',
      legalComments: 'none',
      minifyWhitespace: p.minifyWhitespace ?? false,
      logLevel: 'warning',
    });
  }
  for (const asset of p.assets ?? []) copyFileSync(join(root, asset), join(outdir, asset.split('/').pop()));
  console.log(`bundled ${p.name} → ${join(outdir, 'main.js')}`);
}
