// Pins the Gateway API release whose standard-channel CRDs the integration tests install at test time. They are
// read from Go's module cache (`go mod download -json sigs.k8s.io/gateway-api` in this folder, verified against
// go.sum), never copied into the repository. Nothing here is built.
module perennial.dev/localcluster/gateway-api

go 1.24

require sigs.k8s.io/gateway-api v1.4.1
