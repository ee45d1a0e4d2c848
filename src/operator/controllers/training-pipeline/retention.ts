// Which model versions to delete from the store. Pure. Keeps the newest keepVersions versions (by run number),
// and always keeps the protected ones: the champion, every version a ModelDeployment of the namespace serves or
// names (versions-in-use.ts: following the pipeline, or by model.uri) and the version of the run in progress. Names this controller did not make
// (not v<n>) are never touched. Oldest first, so an interrupted pruning always leaves the newest versions.
import { versionNumber } from './names.js';

export function versionsToDelete(versions: readonly string[], keepVersions: number, protectedVersions: ReadonlySet<string>): string[] {
  const numbered = versions
    .map((v) => ({ v, n: versionNumber(v) }))
    .filter((x): x is { v: string; n: number } => x.n !== undefined)
    .sort((a, b) => b.n - a.n);
  return numbered.slice(keepVersions).filter((x) => !protectedVersions.has(x.v)).map((x) => x.v).reverse();
}

/**
 * The versions that exist once these are deleted, oldest first (status.storedVersions, what `kubectl perennial
 * versions` lists): not one a run is still writing (it exists once its run has published it), and only v<n> names.
 */
export function storedVersions(versions: readonly string[], deleted: readonly string[], running: string | undefined): string[] {
  return versions
    .map((v) => ({ v, n: versionNumber(v) }))
    .filter((x): x is { v: string; n: number } => x.n !== undefined && !deleted.includes(x.v) && x.v !== running)
    .sort((a, b) => a.n - b.n)
    .map((x) => x.v);
}
