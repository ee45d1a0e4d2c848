// `make images`: builds Perennial's three images from their Dockerfiles with buildah (no daemon, no registry) into
// OCI archives in the user cache, and prints where they are. The local node imports them (localcluster/node).
import { repoRoot } from '../localcluster/cluster.js';
import { perennialImageArchives } from '../localcluster/node/images.js';

const started = Date.now();
const archives = perennialImageArchives(repoRoot, (line) => console.error(`images: ${line}`));
for (const [name, archive] of archives) console.log(`${name}\t${archive}`);
console.error(`images: ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
