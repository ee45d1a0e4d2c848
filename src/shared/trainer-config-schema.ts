// The trainer config as JSON Schema (draft 2020-12), for trainers written in other languages and for editors:
// the JSON side of trainerConfigDefinition (trainer-config.ts), with the document's identity around it.
// docs/contracts/trainer-config.schema.json is this object, checked by trainer-config-schema.test.ts, which also
// walks a config using every field through both this schema and parseTrainerConfig so the two agree.
// Regenerate the published copy with `npx tsx src/shared/trainer-config-schema.ts > docs/contracts/trainer-config.schema.json`.
import { fileURLToPath } from 'node:url';
import type { JsonSchema } from './json-contract.js';
import { trainerConfigDefinition } from './trainer-config.js';

export const trainerConfigJsonSchema: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://perennial.dev/schemas/trainer-config-v1.json',
  title: 'Perennial trainer config',
  description: 'One JSON document handed to the training Job (PERENNIAL_TRAINER_CONFIG or PERENNIAL_TRAINER_CONFIG_FILE). Semantic rules beyond this schema (e.g. a slice column must be a categorical feature) are listed in docs/contracts/README.md.',
  ...trainerConfigDefinition.json,
};

if (process.argv[1] === fileURLToPath(import.meta.url)) process.stdout.write(`${JSON.stringify(trainerConfigJsonSchema, null, 2)}\n`);
