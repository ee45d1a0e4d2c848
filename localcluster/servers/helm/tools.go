//go:build tools

// Package tools pins the helm command that localcluster/build-servers.sh builds (chart tests render and lint
// charts/perennial with it), in a module of its own so its dependencies never move the cluster's.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
