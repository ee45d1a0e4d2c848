import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { plainMessage, scramCheckServerFinal, scramClientFinal, scramClientFirst, scramName } from './kafka-sasl.js';

describe('SASL PLAIN', () => {
  it('is the empty authorization id, the user and the password, NUL-separated', () => {
    assert.deepEqual([...plainMessage('alice', 'sécret')], [0, ...Buffer.from('alice'), 0, ...Buffer.from('sécret', 'utf8')]);
  });
});

describe('SCRAM', () => {
  it('escapes = and , in the user name', () => {
    const cases: Array<[string, string]> = [['user', 'user'], ['a=b', 'a=3Db'], ['a,b', 'a=2Cb'], ['=,', '=3D=2C']];
    for (const [name, want] of cases) assert.equal(scramName(name), want);
  });

  it('SCRAM-SHA-256: the exchange of RFC 7677, section 3', () => {
    const first = scramClientFirst('user', 'rOprNGfwEbeRWgbNEkqO');
    assert.equal(first.message, 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    const serverFirst = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
    const final = scramClientFinal('sha256', 'pencil', first.bare, 'rOprNGfwEbeRWgbNEkqO', serverFirst);
    assert.equal(final.message, 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    assert.equal(final.serverSignature, '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
    scramCheckServerFinal('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=', final.serverSignature);
    assert.throws(() => scramCheckServerFinal('v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=', final.serverSignature), /signature is wrong/);
    assert.throws(() => scramCheckServerFinal('e=invalid-proof', final.serverSignature), /refused: invalid-proof/);
  });

  it('SCRAM-SHA-512: the proof passes a server\'s check (RFC 5802: H(proof XOR HMAC(StoredKey, AuthMessage)) = StoredKey)', () => {
    const salt = Buffer.from('a salt of the broker');
    const serverFirst = `r=clientnonce+servernonce,s=${salt.toString('base64')},i=4096`;
    const first = scramClientFirst('alice', 'clientnonce');
    const final = scramClientFinal('sha512', 'wonderland', first.bare, 'clientnonce', serverFirst);
    // What the broker stores for alice, and its check of the proof.
    const salted = pbkdf2Sync('wonderland', salt, 4096, 64, 'sha512');
    const storedKey = createHash('sha512').update(createHmac('sha512', salted).update('Client Key').digest()).digest();
    const [withoutProof, proof] = final.message.split(',p=') as [string, string];
    const authMessage = `${first.bare},${serverFirst},${withoutProof}`;
    const signature = createHmac('sha512', storedKey).update(authMessage).digest();
    const clientKey = Buffer.from(proof, 'base64').map((b, i) => b ^ (signature[i] ?? 0));
    assert.deepEqual(createHash('sha512').update(clientKey).digest(), storedKey);
    const serverKey = createHmac('sha512', salted).update('Server Key').digest();
    assert.equal(final.serverSignature, createHmac('sha512', serverKey).update(authMessage).digest('base64'));
  });

  it('refuses a server-first that does not continue our nonce, lacks a salt, or iterates too little', () => {
    const cases: Array<[string, RegExp]> = [
      ['r=othernonce,s=c2FsdA==,i=4096', /nonce does not continue ours/],
      ['r=ournonce,s=c2FsdA==,i=4096', /nonce does not continue ours/],
      ['r=ournonceXYZ,i=4096', /unusable salt/],
      ['r=ournonceXYZ,s=c2FsdA==,i=1000', /unusable salt or iteration count/],
      ['e=unknown-user', /refused: unknown-user/],
    ];
    for (const [serverFirst, error] of cases) assert.throws(() => scramClientFinal('sha256', 'pw', 'n=u,r=ournonce', 'ournonce', serverFirst), error, serverFirst);
  });
});
