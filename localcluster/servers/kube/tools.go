//go:build tools

// Package tools pins the Kubernetes commands that localcluster builds, so that
// go.mod and go.sum list everything they need.
package tools
