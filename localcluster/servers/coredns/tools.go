//go:build tools

// Package tools pins CoreDNS, the local cluster's DNS (Service names resolve inside pods), built from its Go module.
package tools

import _ "github.com/coredns/coredns"
