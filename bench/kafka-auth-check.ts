// The sink's producer (kafka-wire-producer.ts) against a real broker that wants authentication: SASL PLAIN,
// SCRAM-SHA-256 and SCRAM-SHA-512 over plain TCP, SCRAM-SHA-512 over TLS, and a wrong password refused. The broker
// is the test's (KRaft, the jars of scripts/kafka-jars.sh, Java 17) with two more listeners, SASL_PLAINTEXT and
// SASL_SSL (a self-signed certificate made with keytool for 127.0.0.1), the SCRAM credentials written when its
// storage is formatted. Each case connects, sends 100 events, and the topic's end offsets (read by kafkajs over the
// plain listener) must grow by 100. The producer runs in a child process that trusts the certificate
// (NODE_EXTRA_CA_CERTS is read at a process's start). Not in the test tiers: a check to run after changing the
// producer's handshake. Prints one line per case and exits non-zero when one fails.
// Run (heavy: a broker; under flock /tmp/perennial-heavy.lock here): npx tsx bench/kafka-auth-check.ts
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { freePorts } from '../localcluster/net.js';
import type { KafkaSinkConfig } from '../src/server/kafka-producer.js';
import { wireProducer } from '../src/server/kafka-wire-producer.js';
import { kafkaLibs } from '../test/support/kafka-broker.js';

interface Case {
  readonly name: string;
  readonly config: KafkaSinkConfig;
  /** The error the case must fail with; undefined: it must succeed. */
  readonly refused?: string;
}

/** The child: each case's producer, one JSON line per case. */
async function runCases(cases: readonly Case[]): Promise<void> {
  for (const c of cases) {
    const producer = wireProducer(c.config, 'auth-check')();
    try {
      await producer.connect();
      await producer.send([{ topic: c.config.predictionsTopic, messages: Array.from({ length: 100 }, (_, i) => ({ key: `${c.name}-${i}`, value: JSON.stringify({ i }) })) }]);
      console.log(JSON.stringify({ name: c.name, ok: true }));
    } catch (e: unknown) {
      console.log(JSON.stringify({ name: c.name, ok: false, error: e instanceof Error ? e.message : String(e) }));
    } finally {
      await producer.disconnect();
    }
  }
}

if (process.argv[2] === '--cases') {
  await runCases(JSON.parse(process.argv[3] ?? '[]') as Case[]);
  process.exit(0);
}

const portOpen = (port: number): Promise<boolean> => new Promise((resolve) => {
  const s = connect({ host: '127.0.0.1', port }, () => {
    s.destroy();
    resolve(true);
  });
  s.on('error', () => resolve(false));
});

const dir = mkdtempSync(join(tmpdir(), 'perennial-kafka-auth-'));
let broker: ChildProcess | undefined;
let failed = 0;
try {
  const libs = kafkaLibs();
  const [plain = 0, saslPlain = 0, saslSsl = 0, controller = 0] = await freePorts(4);
  const pass = 'keystore-secret';
  execFileSync('keytool', ['-genkeypair', '-alias', 'broker', '-keyalg', 'RSA', '-keysize', '2048', '-validity', '2', '-dname', 'CN=127.0.0.1', '-ext', 'SAN=ip:127.0.0.1',
    '-keystore', join(dir, 'broker.p12'), '-storetype', 'PKCS12', '-storepass', pass, '-keypass', pass], { stdio: 'pipe' });
  execFileSync('keytool', ['-exportcert', '-rfc', '-alias', 'broker', '-keystore', join(dir, 'broker.p12'), '-storepass', pass, '-file', join(dir, 'ca.pem')], { stdio: 'pipe' });
  const jaas = (listener: string) => [
    `listener.name.${listener}.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";`,
    `listener.name.${listener}.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
    `listener.name.${listener}.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
  ];
  const config = join(dir, 'server.properties');
  writeFileSync(config, [
    'process.roles=broker,controller', 'node.id=1', `controller.quorum.voters=1@127.0.0.1:${controller}`,
    `listeners=PLAINTEXT://127.0.0.1:${plain},SASL_PLAINTEXT://127.0.0.1:${saslPlain},SASL_SSL://127.0.0.1:${saslSsl},CONTROLLER://127.0.0.1:${controller}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${plain},SASL_PLAINTEXT://127.0.0.1:${saslPlain},SASL_SSL://127.0.0.1:${saslSsl}`,
    'controller.listener.names=CONTROLLER', 'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT', 'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512', ...jaas('sasl_plaintext'), ...jaas('sasl_ssl'),
    `ssl.keystore.location=${join(dir, 'broker.p12')}`, 'ssl.keystore.type=PKCS12', `ssl.keystore.password=${pass}`, `ssl.key.password=${pass}`,
    `log.dirs=${join(dir, 'data')}`, 'num.partitions=3', 'auto.create.topics.enable=false',
    'offsets.topic.replication.factor=1', 'transaction.state.log.replication.factor=1', 'transaction.state.log.min.isr=1', 'offsets.topic.num.partitions=1',
  ].join('\n') + '\n');
  writeFileSync(join(dir, 'log4j.properties'), 'log4j.rootLogger=WARN, stdout\nlog4j.appender.stdout=org.apache.log4j.ConsoleAppender\nlog4j.appender.stdout.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\n');
  const jvm = ['-Xms128m', '-Xmx512m', `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`, '-cp', `${libs}/*`];
  execFileSync('java', [...jvm, 'kafka.tools.StorageTool', 'format', `--cluster-id=${randomBytes(16).toString('base64url').replace(/^-/, 'A')}`, '-c', config,
    '--add-scram', 'SCRAM-SHA-256=[name=alice,password=alice-secret]', '--add-scram', 'SCRAM-SHA-512=[name=alice,password=alice-secret]'], { stdio: 'pipe' });
  let out = '';
  broker = spawn('java', [...jvm, 'kafka.Kafka', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  broker.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  broker.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 600 && !(await portOpen(saslSsl)); i++) {
    if (broker.exitCode !== null) throw new Error(`the broker exited: ${out.slice(-3000)}`);
    await sleep(100);
  }

  const kafka = new Kafka({ brokers: [`127.0.0.1:${plain}`], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'predictions', numPartitions: 3 }, { topic: 'feedback', numPartitions: 3 }] });
  const base = { predictionsTopic: 'predictions', feedbackTopic: 'feedback', maxBufferedEvents: 1000 };
  const alice = (mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512', password = 'alice-secret') => ({ mechanism, username: 'alice', password });
  const cases: Case[] = [
    { name: 'SASL PLAIN', config: { ...base, brokers: [`127.0.0.1:${saslPlain}`], tls: false, sasl: alice('plain') } },
    { name: 'SASL SCRAM-SHA-256', config: { ...base, brokers: [`127.0.0.1:${saslPlain}`], tls: false, sasl: alice('scram-sha-256') } },
    { name: 'SASL SCRAM-SHA-512', config: { ...base, brokers: [`127.0.0.1:${saslPlain}`], tls: false, sasl: alice('scram-sha-512') } },
    { name: 'TLS + SASL SCRAM-SHA-512', config: { ...base, brokers: [`127.0.0.1:${saslSsl}`], tls: true, sasl: alice('scram-sha-512') } },
    { name: 'TLS + SASL PLAIN', config: { ...base, brokers: [`127.0.0.1:${saslSsl}`], tls: true, sasl: alice('plain') } },
    { name: 'a wrong SCRAM password', config: { ...base, brokers: [`127.0.0.1:${saslPlain}`], tls: false, sasl: alice('scram-sha-256', 'wrong') }, refused: 'SASL_AUTHENTICATION_FAILED' },
    { name: 'a wrong PLAIN password', config: { ...base, brokers: [`127.0.0.1:${saslPlain}`], tls: false, sasl: alice('plain', 'wrong') }, refused: 'SASL_AUTHENTICATION_FAILED' },
  ];
  const offsets = async (): Promise<number> => (await admin.fetchTopicOffsets('predictions')).reduce((a, p) => a + Number(p.high), 0);
  const before = await offsets();
  const child = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--cases', JSON.stringify(cases)], { encoding: 'utf8', env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') } });
  const results = child.trim().split('\n').map((l) => JSON.parse(l) as { name: string; ok: boolean; error?: string });
  const sent = await offsets() - before;
  await admin.disconnect();
  for (const c of cases) {
    const r = results.find((x) => x.name === c.name);
    const pass = c.refused === undefined ? r?.ok === true : r?.ok === false && (r.error ?? '').includes(c.refused);
    if (!pass) failed++;
    console.log(`${pass ? 'ok  ' : 'FAIL'} ${c.name}: ${r === undefined ? 'no result' : r.ok ? 'sent 100 events' : `refused: ${r.error ?? ''}`}`);
  }
  const want = cases.filter((c) => c.refused === undefined).length * 100;
  if (sent !== want) failed++;
  console.log(`${sent === want ? 'ok  ' : 'FAIL'} the topic grew by ${sent} records (${want} sent by the cases that succeed)`);
} finally {
  broker?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed === 0 ? 0 : 1);
