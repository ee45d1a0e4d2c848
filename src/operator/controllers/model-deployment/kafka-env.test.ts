import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { podEnv } from '../../../shared/pod-contract.js';
import { kafkaEnv } from './server-deployment.js';

describe('kafkaEnv (the server pods\' environment from spec.server.kafka)', () => {
  it('is empty without spec.server.kafka', () => assert.deepEqual(kafkaEnv(undefined), []));
  it('names the brokers and topics, and the credentials only as references to the Secret', () => {
    const env = kafkaEnv({ bootstrapServers: ['a:9092', 'b:9092'], predictionsTopic: 'p', feedbackTopic: 'f', tls: true, saslMechanism: 'scram-sha-512', secretName: 'kafka', maxBufferedEvents: 5 });
    const byName = Object.fromEntries(env.map((e) => [e.name, e]));
    assert.equal(byName[podEnv.serverKafkaBrokers]?.value, 'a:9092,b:9092');
    assert.equal(byName[podEnv.serverKafkaTls]?.value, 'true');
    assert.deepEqual(byName[podEnv.serverKafkaPassword]?.valueFrom, { secretKeyRef: { name: 'kafka', key: 'password' } });
    assert.equal(byName[podEnv.serverKafkaPassword]?.value, undefined);
  });
});
