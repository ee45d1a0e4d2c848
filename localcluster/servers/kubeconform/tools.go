//go:build tools

// Package tools pins kubeconform, which the chart tests run against JSON schemas generated from the local API
// server's OpenAPI document and from our CRDs (it cannot download schemas here). A module of its own.
package tools

import _ "github.com/yannh/kubeconform/cmd/kubeconform"
