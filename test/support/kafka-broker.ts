// A real Kafka broker for the tests and the bench: one node in KRaft mode (broker and controller in one process),
// run from the jars scripts/kafka-jars.sh resolved from Maven Central (make test runs it), on the installed Java 17,
// on free loopback ports, with its data in a temporary folder. stop() and start() again keep the data and the ports:
// a restart, as a broker restarted by its operator.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../../localcluster/cluster.js';
import { freePorts } from '../../localcluster/net.js';

/** The jars' folder; throws with the command to run when they are missing. */
export function kafkaLibs(): string {
  const dir = execFileSync(join(repoRoot, 'scripts', 'kafka-jars.sh'), ['--print'], { encoding: 'utf8' }).trim();
  if (!existsSync(join(dir, '.complete'))) throw new Error(`the Kafka jars are missing: run scripts/kafka-jars.sh (make test runs it)`);
  return join(dir, 'libs');
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

export class KafkaBroker {
  private child: ChildProcess | undefined;
  private out = '';

  private constructor(readonly dir: string, readonly port: number, private readonly config: string, private readonly libs: string) {}

  /** `host:port` to bootstrap from. */
  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Formats a new data folder and starts the broker; resolves once it takes connections. */
  static async start(partitions = 3): Promise<KafkaBroker> {
    const libs = kafkaLibs();
    const dir = mkdtempSync(join(tmpdir(), 'perennial-kafka-'));
    const [port = 0, controller = 0] = await freePorts(2);
    const config = join(dir, 'server.properties');
    writeFileSync(config, [
      'process.roles=broker,controller', 'node.id=1', `controller.quorum.voters=1@127.0.0.1:${controller}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`, `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER', 'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT', 'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${join(dir, 'data')}`, `num.partitions=${partitions}`, 'auto.create.topics.enable=false',
      'offsets.topic.replication.factor=1', 'transaction.state.log.replication.factor=1', 'transaction.state.log.min.isr=1',
      'group.initial.rebalance.delay.ms=0', 'offsets.topic.num.partitions=1',
    ].join('\n') + '\n');
    writeFileSync(join(dir, 'log4j.properties'), 'log4j.rootLogger=WARN, stdout\nlog4j.appender.stdout=org.apache.log4j.ConsoleAppender\nlog4j.appender.stdout.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\n');
    // A cluster id is 16 random bytes in URL-safe base64 without padding, as `kafka-storage random-uuid` prints. One
    // in 64 begins with '-', which the tool's argument parser takes for an option after `-t`: given as `--cluster-id=`.
    const clusterId = randomBytes(16).toString('base64url');
    execFileSync('java', [...KafkaBroker.jvm(dir, libs), 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', config], { stdio: 'pipe' });
    const broker = new KafkaBroker(dir, port, config, libs);
    await broker.restart();
    return broker;
  }

  private static jvm(dir: string, libs: string): string[] {
    return ['-Xms128m', '-Xmx512m', `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`, '-cp', `${libs}/*`];
  }

  /** Starts the broker on its data folder and ports (again, after stop()). */
  async restart(): Promise<void> {
    this.child = spawn('java', [...KafkaBroker.jvm(this.dir, this.libs), 'kafka.Kafka', this.config], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.out += d.toString()));
    for (let i = 0; i < 600; i++) {
      if (this.child.exitCode !== null) throw new Error(`kafka exited ${String(this.child.exitCode)}: ${this.out.slice(-3000)}`);
      if (await portOpen(this.port)) return;
      await sleep(100);
    }
    throw new Error(`kafka did not listen on ${this.port}: ${this.out.slice(-3000)}`);
  }

  /** Stops the broker (SIGTERM: a controlled shutdown) and waits for the process to end. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const ended = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    child.kill('SIGTERM');
    const killed = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await ended;
    clearTimeout(killed);
  }

  /** Stops the broker and deletes its data. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  output(): string {
    return this.out;
  }
}
