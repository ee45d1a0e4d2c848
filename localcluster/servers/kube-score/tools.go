//go:build tools

// Package tools pins kube-score, the manifest linter of the chart tests (kube-linter's module host is not
// reachable here: docs/decisions/0001-kube-score-instead-of-kube-linter.md). A module of its own.
package tools

import _ "github.com/zegl/kube-score/cmd/kube-score"
