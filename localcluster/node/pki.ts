// The node's small PKI, made with openssl at each start: a CA, the kubelet's serving certificate (the API server
// checks it when it dials the kubelet for logs and exec) and the API server's client certificate for the kubelet
// (the kubelet admits only it, or an API token; anonymous access is off).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeAddresses } from './network.js';

export interface NodePki {
  readonly caFile: string;
  readonly kubeletCert: string;
  readonly kubeletKey: string;
  /** For kube-apiserver --kubelet-client-certificate / --kubelet-client-key. */
  readonly apiserverClientCert: string;
  readonly apiserverClientKey: string;
}

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function signed(dir: string, name: string, subject: string, ca: { cert: string; key: string }, extensions: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-subj', subject, '-out', csr);
  openssl('x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '30', '-sha256', '-extfile', ext, '-out', cert);
  return { cert, key };
}

export function makeNodePki(dir: string, a: NodeAddresses): NodePki {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', ca.key, '-out', ca.cert, '-days', '30', '-subj', `/CN=perennial-node-${a.index}-ca`);
  const kubelet = signed(dir, 'kubelet', `/CN=system:node:perennial-node-${a.index}/O=system:nodes`, ca,
    `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:${a.nodeIP},DNS:perennial-node-${a.index}\n`);
  const client = signed(dir, 'apiserver-kubelet-client', '/CN=kube-apiserver-kubelet-client/O=system:masters', ca,
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  return { caFile: ca.cert, kubeletCert: kubelet.cert, kubeletKey: kubelet.key, apiserverClientCert: client.cert, apiserverClientKey: client.key };
}
