// Command pause is the sandbox process of every pod on the local node (the image the kubelet calls
// registry.k8s.io/pause, which cannot be pulled here): it holds the pod's namespaces open, reaps the orphans that
// are re-parented to it, and exits on SIGINT or SIGTERM, like the upstream pause.c.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range signals {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
