// How a CRD is written to crds/: YAML with a header saying where it comes from.
import yaml from 'js-yaml';

export function renderCrdYaml(crd: Record<string, unknown>): string {
  return '# Generated from src/api by `npm run gen:crds`; do not edit by hand.\n'
    + yaml.dump(crd, { lineWidth: 120, noRefs: true, sortKeys: false });
}
