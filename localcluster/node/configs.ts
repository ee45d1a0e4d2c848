// The configuration files of the node's components, as pure functions of where things are. Each says why a
// setting is not the component's default; everything else is.
import type { NodeAddresses } from './network.js';

export interface NodeDirs {
  /** containerd's root (images, snapshots), state (sockets, pod network namespaces) and config. */
  readonly containerd: string;
  readonly kubelet: string;
  readonly cni: string;
}

export const pauseImage = 'registry.k8s.io/pause:3.10';

export function containerdSocket(d: NodeDirs): string {
  return `${d.containerd}/containerd.sock`;
}

/** containerd 1.6 (Debian), CRI plugin only. */
export function containerdConfig(d: NodeDirs): string {
  return `version = 2
root = "${d.containerd}/root"
state = "${d.containerd}/state"
# Nothing of the machine's own containerd (if any) is touched: sockets, state and plugins live in this node's folder.
[grpc]
  address = "${containerdSocket(d)}"
[ttrpc]
  address = "${d.containerd}/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${d.containerd}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  # Built locally (localcluster/servers/pause): registries cannot be reached.
  sandbox_image = "${pauseImage}"
  # This machine lacks CAP_SYS_RESOURCE: without this every sandbox fails ("can't get final child's PID from pipe").
  restrict_oom_score_adj = true
  # Pod network namespaces under the node's state folder, not the host's /run/netns.
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # The kubelet's cgroupDriver is cgroupfs (no systemd here).
        SystemdCgroup = false
        BinaryName = "/usr/sbin/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${d.cni}/net.d"
`;
}

/** Debian's containernetworking-plugins: one bridge, host-local addresses from the node's pod range. */
export function cniConfig(a: NodeAddresses, d: NodeDirs): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'perennial',
    plugins: [
      {
        type: 'bridge', bridge: 'cni0', isGateway: true, hairpinMode: true,
        // No masquerade: the host routes the pod range to the node, so pods keep their own source addresses.
        ipMasq: false,
        ipam: { type: 'host-local', ranges: [[{ subnet: a.podCIDR, gateway: a.podGateway }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: `${d.cni}/ipam` },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  }, null, 2);
}

export interface KubeletPorts {
  readonly port: number;
  readonly healthz: number;
}

export function kubeletConfig(a: NodeAddresses, d: NodeDirs, ports: KubeletPorts, pki: { caFile: string; kubeletCert: string; kubeletKey: string }): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://${containerdSocket(d)}
# containerd 1.6 cannot tell the kubelet its cgroup driver; it uses cgroupfs (SystemdCgroup = false above).
cgroupDriver: cgroupfs
# This machine mounts cgroups v1 (hybrid): kubelet 1.34 refuses it unless told not to.
failCgroupV1: false
# The node's pods under a hierarchy of their own, so two nodes of concurrent runs never share /kubepods.
cgroupRoot: /perennial-node-${a.index}
address: ${a.nodeIP}
port: ${ports.port}
tlsCertFile: ${pki.kubeletCert}
tlsPrivateKeyFile: ${pki.kubeletKey}
healthzBindAddress: 127.0.0.1
healthzPort: ${ports.healthz}
readOnlyPort: 0
# Only the API server (its kubelet client certificate, signed by the node's CA) and API tokens get in; what they may
# do is asked of the API server. Pods can reach this port: anonymous access would let any pod exec into any other.
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: ${pki.caFile} }
authorization:
  mode: Webhook
clusterDomain: cluster.local
clusterDNS: [${a.hostIP}]
resolvConf: /etc/resolv.conf
failSwapOn: false
# A shared development machine: never evict or garbage-collect images because its disk looks full.
evictionHard: { memory.available: "50Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%" }
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
registerNode: true
# Quick reactions for tests: pod status and probes as often as a real node, node status a little more often.
nodeStatusUpdateFrequency: 5s
syncFrequency: 10s
`;
}

export function kubeProxyConfig(a: NodeAddresses, kubeconfig: string, ports: { healthz: number; metrics: number }): string {
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: ${a.podCIDR}
bindAddress: ${a.nodeIP}
healthzBindAddress: 127.0.0.1:${ports.healthz}
metricsBindAddress: 127.0.0.1:${ports.metrics}
nodePortAddresses: [${a.nodeIP}/32]
# nf_conntrack_max is global: leave it as the machine has it.
conntrack:
  maxPerCore: 0
clientConnection:
  kubeconfig: ${kubeconfig}
`;
}

/** CoreDNS on the host address pods reach: cluster names from the API server, everything else from the host. */
export function corefile(a: NodeAddresses, server: string, kubeconfig: string): string {
  return `.:53 {
    bind ${a.hostIP}
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        endpoint ${server}
        kubeconfig ${kubeconfig}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    forward . /etc/resolv.conf
    cache 5
}
`;
}
