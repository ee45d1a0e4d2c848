// Which local program runs for a container image. The node agent has no container runtime: it runs the programs
// Perennial ships as their bundles (what the images contain), and a few test programs. Any registry and tag maps
// to the same program (ghcr.io/x/perennial-server:0.1.0 → the server bundle).
import { join } from 'node:path';

export interface LocalProgram {
  readonly command: string;
  readonly args: readonly string[];
}

export class UnknownImageError extends Error {
  constructor(readonly image: string) {
    super(`no local program for image ${image}: the local node runs perennial-operator, perennial-trainer, perennial-server and perennial-testing/<name> images`);
    this.name = 'UnknownImageError';
  }
}

/** The image's repository name without registry, path and tag: ghcr.io/a/perennial-server:1 → perennial-server. */
export function imageName(image: string): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const lastColon = withoutDigest.lastIndexOf(':');
  const end = lastColon > lastSlash ? lastColon : withoutDigest.length;
  return withoutDigest.slice(0, end);
}

export function programFor(image: string, repoRoot: string, node = process.execPath): LocalProgram {
  const name = imageName(image);
  const base = name.slice(name.lastIndexOf('/') + 1);
  for (const program of ['operator', 'trainer', 'server'] as const) {
    if (base === `perennial-${program}`) return { command: node, args: [join(repoRoot, 'dist', program, 'main.js')] };
  }
  const testing = /(^|\/)perennial-testing\/([a-z0-9-]+)$/.exec(name);
  if (testing?.[2]) return { command: node, args: [join(repoRoot, 'localcluster', 'node-agent', 'testdata', `${testing[2]}.mjs`)] };
  throw new UnknownImageError(image);
}
