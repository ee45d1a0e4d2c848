// A local cluster with a real node and Perennial's images on it, for the tests that run pods: the images are built
// from their Dockerfiles (or found in the cache: localcluster/node/images.ts) and imported into the node's
// containerd, which pulls from no registry.
import { LocalCluster, repoRoot } from '../../localcluster/cluster.js';
import { perennialImageArchives } from '../../localcluster/node/images.js';

export { imageTags } from '../../localcluster/node/images.js';

export async function startClusterWithNode(name: string, log: (line: string) => void = () => undefined): Promise<LocalCluster> {
  const archives = perennialImageArchives(repoRoot, log);
  const cluster = await LocalCluster.start({ name, node: true });
  try {
    for (const archive of archives.values()) cluster.node?.importImage(archive);
  } catch (e: unknown) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}
