// Images for the local node, which can pull from no registry: built here with buildah (daemonless, no registry),
// saved as OCI archives in the user cache (keyed by what they are made of) and imported into the node's
// containerd. buildah runs with a private storage folder and the vfs driver: it mounts nothing on the host.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pauseImage } from './configs.js';

export const imageCache = join(process.env['PERENNIAL_CACHE'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'perennial'), 'images');

/** Runs buildah with a throw-away storage folder; the callback gets the command prefix. */
export function withBuildah<T>(fn: (buildah: (...args: string[]) => string) => T): T {
  const root = mkdtempSync(join(tmpdir(), 'perennial-buildah-'));
  const buildah = (...args: string[]): string => execFileSync('buildah', [
    '--root', join(root, 'root'), '--runroot', join(root, 'run'), '--storage-driver', 'vfs', ...args,
  ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 }).trim();
  try {
    return fn(buildah);
  } finally {
    try {
      execFileSync('buildah', ['--root', join(root, 'root'), '--runroot', join(root, 'run'), '--storage-driver', 'vfs', 'rm', '--all'], { stdio: 'ignore' });
    } catch {
      // nothing to remove
    }
    rmSync(root, { recursive: true, force: true });
  }
}

/** The pause image (the static localcluster/servers/pause binary, FROM scratch) as an OCI archive. */
export function pauseImageArchive(pauseBinary: string): string {
  const digest = createHash('sha256').update(readFileSync(pauseBinary)).digest('hex').slice(0, 16);
  const archive = join(imageCache, `pause-${digest}.tar`);
  if (existsSync(archive)) return archive;
  mkdirSync(imageCache, { recursive: true });
  withBuildah((buildah) => {
    const c = buildah('from', 'scratch');
    buildah('copy', c, pauseBinary, '/pause');
    buildah('config', '--entrypoint', '["/pause"]', '--user', '65535:65535', c);
    buildah('commit', '-q', c, pauseImage);
    buildah('push', '-q', pauseImage, `oci-archive:${archive}.tmp:${pauseImage}`);
  });
  renameSync(`${archive}.tmp`, archive);
  return archive;
}
