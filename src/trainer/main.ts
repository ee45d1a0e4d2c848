// Entry point of the training Job's container. Reads the pod contract, runs one training run, and turns the
// outcome into an exit code and a termination message the operator reads from the pod status.
import winston from 'winston';
import { exitCodes, writeTerminationMessage, type ExitCodeName, type TerminationMessage } from '../shared/pod-contract.js';
import { InvalidConfigError, parseTrainerConfig, type TrainerConfig } from '../shared/trainer-config.js';
import { MinioStore } from '../storage/minio-store.js';
import { StoreUnavailableError } from '../storage/object-store.js';
import { readTrainerEnv } from './env.js';
import { InvalidDataError, runTraining, VersionTakenError } from './run.js';

function classify(e: unknown): ExitCodeName {
  if (e instanceof InvalidConfigError || e instanceof VersionTakenError) return 'invalidConfig';
  if (e instanceof InvalidDataError) return 'invalidData';
  if (e instanceof StoreUnavailableError) return 'storeUnavailable';
  return 'internalError';
}

async function main(): Promise<number> {
  const logger = winston.createLogger({
    level: 'info',
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    defaultMeta: { program: 'trainer' },
    transports: [new winston.transports.Console()],
  });
  let config: TrainerConfig | undefined;
  let terminationPath: string | undefined;
  let outcome: TerminationMessage;
  try {
    const env = readTrainerEnv(process.env);
    terminationPath = env.terminationMessagePath;
    logger.level = env.logLevel;
    config = parseTrainerConfig(env.configText);
    const log = logger.child({ pipeline: `${config.pipeline.namespace}/${config.pipeline.name}`, runId: config.runId, version: config.version });
    log.info('trainer starting', { codeVersion: env.codeVersion });
    const store = new MinioStore(env.store);
    const result = await runTraining(config, { store, bucket: env.bucket, log, forcedBackend: env.forcedBackend, codeVersion: env.codeVersion, now: () => new Date() });
    outcome = { outcome: 'success', exitCode: exitCodes.success, message: result.alreadyPublished ? 'already published' : 'published', runId: config.runId, version: config.version, key: result.manifestKey };
  } catch (e: unknown) {
    const name = classify(e);
    const message = e instanceof Error ? e.message : String(e);
    logger.error('trainer failed', { outcome: name, error: message, ...(name === 'internalError' && e instanceof Error ? { stack: e.stack } : {}) });
    outcome = {
      outcome: name, exitCode: exitCodes[name], message,
      ...(config ? { runId: config.runId, version: config.version } : {}),
      ...(e instanceof InvalidDataError ? { key: e.reportKey } : {}),
    };
  }
  writeTerminationMessage(outcome, terminationPath);
  logger.info('trainer finished', { outcome: outcome.outcome, exitCode: outcome.exitCode });
  // Let winston flush before exiting.
  await new Promise<void>((resolve) => {
    logger.on('finish', () => resolve());
    logger.end();
    setTimeout(resolve, 500).unref();
  });
  return outcome.exitCode;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(exitCodes.internalError);
  },
);
