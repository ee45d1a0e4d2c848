import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { maxIdClasses, maxPredictionIdLength, newNonce, signPredictionId, verifyPredictionId, type PredictionClaim } from './prediction-id.js';

const key = Buffer.from('k'.repeat(32));
const dep = 'team-a/weather';
const claim: PredictionClaim = { nonce: newNonce(), version: 'v3', track: 'canary', timeMs: 1_733_300_000_000, prediction: 'sun' };

describe('prediction ids', () => {
  it('round-trips a classification and a regression claim', () => {
    for (const c of [claim, { ...claim, prediction: 12.5 }]) {
      const v = verifyPredictionId(key, dep, signPredictionId(key, dep, c));
      assert.deepEqual(v, { ok: true, claim: c });
    }
  });

  it('carries class probabilities in millionths, so any replica can score the live log loss', () => {
    const v = verifyPredictionId(key, dep, signPredictionId(key, dep, { ...claim, probabilities: [0.7123456789, 0.2, 0.0876543211] }));
    assert.deepEqual(v, { ok: true, claim: { ...claim, probabilities: [0.712346, 0.2, 0.087654] } });
    const many = Array.from({ length: maxIdClasses + 1 }, () => 1 / (maxIdClasses + 1));
    const w = verifyPredictionId(key, dep, signPredictionId(key, dep, { ...claim, probabilities: many }));
    assert.deepEqual(w, { ok: true, claim }, 'more classes than an id carries: no probabilities, accuracy only');
    assert.ok(signPredictionId(key, dep, { ...claim, probabilities: Array.from({ length: maxIdClasses }, () => 0.999999) }).length < maxPredictionIdLength);
  });

  it('refuses well-signed probabilities that are not millionths', () => {
    for (const probs of [[1.5, 0], [-1], [], 'x', [2_000_000]]) {
      const bad = Buffer.from(JSON.stringify([claim.nonce, claim.version, claim.track, claim.timeMs, 'sun', probs])).toString('base64url');
      const mac = createHmac('sha256', key).update(`${dep}\np1.${bad}`).digest().subarray(0, 16).toString('base64url');
      assert.equal(verifyPredictionId(key, dep, `p1.${bad}.${mac}`).ok, false, JSON.stringify(probs));
    }
  });

  it('signs with HMAC-SHA256 as createHmac computes it, for keys shorter and longer than a SHA-256 block', () => {
    for (const k of [Buffer.from('k'), key, Buffer.alloc(64, 0xa5), Buffer.alloc(65, 0x5a), Buffer.alloc(200, 7)]) {
      for (const d of [dep, 'tëam/wéather', 'x'.repeat(253) + '/y']) {
        const id = signPredictionId(k, d, { ...claim, probabilities: [0.25, 0.75] });
        const signed = id.slice(0, id.lastIndexOf('.'));
        const expected = createHmac('sha256', k).update(`${d}\n${signed}`).digest().subarray(0, 16).toString('base64url');
        assert.equal(id.slice(id.lastIndexOf('.') + 1), expected, `key of ${k.length} bytes, ${d}`);
        assert.equal(verifyPredictionId(k, d, id).ok, true);
      }
    }
  });

  it('accepts one spelling of an id only: other low bits in its last character and base64 padding are refused', () => {
    // 16 bytes are 22 base64url characters whose last carries 2 bits: 15 other characters decode to the same MAC.
    const id = signPredictionId(key, dep, claim);
    const spellings = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_']
      .map((c) => `${id.slice(0, -1)}${c}`).filter((s) => s !== id)
      .filter((s) => Buffer.from(s.slice(s.lastIndexOf('.') + 1), 'base64url').equals(Buffer.from(id.slice(id.lastIndexOf('.') + 1), 'base64url')));
    assert.equal(spellings.length, 15);
    for (const s of [...spellings, `${id}=`, `${id}==`, `${id.slice(0, id.indexOf('.') + 1)}${id.slice(id.indexOf('.') + 1, id.lastIndexOf('.'))}=${id.slice(id.lastIndexOf('.'))}`]) {
      const r = verifyPredictionId(key, dep, s);
      assert.equal(r.ok, false, s);
    }
    assert.equal(verifyPredictionId(key, dep, id).ok, true);
  });

  it('encodes the payload as base64url of the claim\'s JSON, for any label (non-ASCII, longer than the encoder\'s buffer)', () => {
    for (const label of ['snö', '雪', 'x'.repeat(2000), 'é'.repeat(1400)]) {
      const id = signPredictionId(key, dep, { ...claim, prediction: label });
      const expected = Buffer.from(JSON.stringify([claim.nonce, claim.version, claim.track, claim.timeMs, label])).toString('base64url');
      assert.equal(id.split('.')[1], expected);
      if (id.length <= maxPredictionIdLength) assert.deepEqual(verifyPredictionId(key, dep, id), { ok: true, claim: { ...claim, prediction: label } });
    }
  });

  it('two ids of the same claim fields differ by their nonce', () => {
    assert.notEqual(signPredictionId(key, dep, { ...claim, nonce: newNonce() }), signPredictionId(key, dep, { ...claim, nonce: newNonce() }));
  });

  it('nonces are 16 bytes and never repeat, across refills of their random pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const n = newNonce();
      assert.equal(Buffer.from(n, 'base64url').length, 16);
      seen.add(n);
    }
    assert.equal(seen.size, 2000);
  });

  const id = signPredictionId(key, dep, claim);
  const [v, payload = '', sig = ''] = id.split('.');
  const edited = Buffer.from(JSON.stringify([claim.nonce, claim.version, claim.track, claim.timeMs, 'rain'])).toString('base64url');
  const refusals: Array<[string, string, string, Buffer, RegExp]> = [
    ['a uuid (what clients sent before)', '2b1f0c1e-5a7e-4c8e-9a55-3f1e2d4c5b6a', dep, key, /not a prediction id/],
    ['an empty id', '', dep, key, /not a prediction id/],
    ['another version prefix', `p2.${payload}.${sig}`, dep, key, /not a prediction id/],
    ['an edited prediction', `${v}.${edited}.${sig}`, dep, key, /signature/],
    ['a truncated signature', `${v}.${payload}.${sig.slice(0, 10)}`, dep, key, /signature/],
    ['the same id presented to another deployment', id, 'team-b/weather', key, /signature/],
    ['the same id checked with another key', id, dep, Buffer.from('x'.repeat(32)), /signature/],
    ['a huge id', `p1.${'A'.repeat(maxPredictionIdLength)}.x`, dep, key, /longer than/],
    ['extra dots', `${id}.x`, dep, key, /not a prediction id/],
  ];
  for (const [name, text, deployment, k, reason] of refusals) {
    it(`refuses ${name}`, () => {
      const r = verifyPredictionId(k, deployment, text);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.reason, reason);
    });
  }

  it('refuses a well-signed payload that is not a claim', () => {
    const bad = Buffer.from(JSON.stringify({ not: 'an array' })).toString('base64url');
    // Sign it the way the server would, so only the payload check can refuse it.
    const mac = createHmac('sha256', key).update(`${dep}\np1.${bad}`).digest().subarray(0, 16).toString('base64url');
    const r = verifyPredictionId(key, dep, `p1.${bad}.${mac}`);
    assert.equal(r.ok, false);
  });
});
