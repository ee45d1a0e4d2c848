//go:build tools

// Package tools pins the node components that localcluster builds (kubelet, kube-proxy, kube-scheduler) from the
// same k8s.io/kubernetes module as the control plane, in a module of their own so that the control plane's cached
// builds keep their inputs.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
