// The names the operator derives from a resource's own name, and so which names a resource may have. The API server
// refuses any other at admission (crds.ts: CEL rules on metadata.name with these messages); the controllers check
// again for objects stored before the rules existed (spec-checks), so such an object gets Accepted=False naming
// the limit instead of children that fail to be created.
//
// A ModelDeployment `<md>` names its Services `<md>`, `<md>-canary`, `<md>-preview` and `<md>-feedback` (a Service
// name is a DNS-1035 label: at most 63 characters, lowercase letters, digits and '-', starting with a letter), its
// feedback Secret `<md>-feedback`, its server Deployments `<md>-<revision hash>` and its HTTPRoute `<md>`, and
// `<md>` is the value of the `perennial.dev/deployment` label (at most 63). A TrainingPipeline `<tp>` names each
// run's Job `<tp>-<run number>` (the Job's name is also the value of its pods' job-name label: at most 63), and
// ModelDeployments and triggers refer to it as a DNS-1123 label.
import type { CelRule } from './schema.js';

/** Longest DNS label, label value and Service name. */
export const dnsLabelMaxLength = 63;

/** Characters of the revision hash in a server Deployment's name (`<md>-<hash>`, a DNS-1123 subdomain: up to 253). */
export const revisionHashLength = 10;

/** What a ModelDeployment's children append to its name. */
export const deploymentNameSuffixes = {
  canaryService: '-canary',
  previewService: '-preview',
  feedbackService: '-feedback',
} as const;

/** The most digits a run number is given room for in a Job name (runs 1 to 9,999,999,999). */
export const runNumberDigits = 10;

/** The longest ModelDeployment name whose derived names all fit: 63 less the longest suffix ("-feedback"). */
export const maxModelDeploymentNameLength = dnsLabelMaxLength - Math.max(...Object.values(deploymentNameSuffixes).map((s) => s.length));

/** The longest TrainingPipeline name that leaves room for "-<run number>" in a 63-character Job name. */
export const maxTrainingPipelineNameLength = dnsLabelMaxLength - 1 - runNumberDigits;

const dns1035 = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
const dns1123 = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

export interface NameRule {
  readonly pattern: string;
  readonly maxLength: number;
  readonly patternMessage: string;
  readonly lengthMessage: string;
}

export const nameRules = {
  ModelDeployment: {
    pattern: dns1035,
    maxLength: maxModelDeploymentNameLength,
    patternMessage: 'metadata.name must be a DNS-1035 label: lowercase letters, digits and \'-\', starting with a letter and '
      + 'ending with a letter or digit, no dots (the deployment\'s Services are named after it)',
    lengthMessage: `metadata.name must be at most ${maxModelDeploymentNameLength} characters: the deployment's Services are named `
      + `after it, the longest <name>${deploymentNameSuffixes.feedbackService}, and a Service name has at most ${dnsLabelMaxLength}`,
  },
  TrainingPipeline: {
    pattern: dns1123,
    maxLength: maxTrainingPipelineNameLength,
    patternMessage: 'metadata.name must be a DNS-1123 label: lowercase letters, digits and \'-\', starting and ending with a '
      + 'letter or digit, no dots (ModelDeployments and triggers refer to the pipeline by it)',
    lengthMessage: `metadata.name must be at most ${maxTrainingPipelineNameLength} characters: each run's Job is named `
      + `<name>-<run number> and a Job name has at most ${dnsLabelMaxLength}`,
  },
} as const satisfies Record<string, NameRule>;

/** The CEL rules on metadata.name at the root of a CRD's schema. */
export function nameCelRules(rule: NameRule): CelRule[] {
  return [
    { rule: `self.metadata.name.matches('${rule.pattern}')`, message: rule.patternMessage },
    { rule: `size(self.metadata.name) <= ${rule.maxLength}`, message: rule.lengthMessage },
  ];
}

/** What is wrong with a name, in the words of the CEL rules (empty: nothing). */
export function nameProblems(rule: NameRule, name: string): string[] {
  return [
    ...(new RegExp(rule.pattern).test(name) ? [] : [rule.patternMessage]),
    ...(name.length <= rule.maxLength ? [] : [rule.lengthMessage]),
  ];
}
