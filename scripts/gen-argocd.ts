// Writes argocd/argocd-cm.yaml from the health scripts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../localcluster/cluster.js';
import { renderArgocdCm } from '../argocd/argocd-cm.js';

const path = join(repoRoot, 'argocd', 'argocd-cm.yaml');
writeFileSync(path, renderArgocdCm(repoRoot));
console.log(`wrote ${path}`);
