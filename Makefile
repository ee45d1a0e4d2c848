# The two commands of the README, and the steps they are made of. Everything they need is installed here:
# npm packages from the lockfile, and the Go-built cluster servers (cached in ~/.cache/perennial by their pins).
SHELL := /bin/bash
NPM_STAMP := node_modules/.perennial-installed

.PHONY: test demo dev deps native-tfjs python-envs kafka-jars system-deps servers images typecheck lint unit integration e2e build cluster

# Debian packages the tests use: lua5.1 runs the Argo CD health scripts; prometheus answers the ModelDeployment
# controller's `prometheus` metric provider in its integration test; the local node runs containerd with runc, CNI
# bridge networking (containernetworking-plugins), iptables and conntrack for kube-proxy, and images are built with
# buildah on a Debian rootfs made by debootstrap. g++, make and pip build the native TensorFlow backend (native-tfjs).
# Java 17 runs the Kafka broker of the Kafka sink's tests, and Maven resolves its jars (kafka-jars).
DEBIAN_PACKAGES := lua5.1:lua5.1 prometheus:prometheus containerd:containerd runc:runc /usr/lib/cni/bridge:containernetworking-plugins \
	iptables:iptables conntrack:conntrack buildah:buildah debootstrap:debootstrap openssl:openssl nsenter:util-linux \
	g++:g++ make:make pip3:python3-pip java:openjdk-17-jre-headless mvn:maven chromium:chromium

test: deps system-deps native-tfjs python-envs kafka-jars servers typecheck lint
	npx tsx scripts/run-tests.ts all

demo: deps system-deps servers
	npx tsx scripts/demo.ts

# The local cluster with everything needed to bring your own data (docs/own-data.md): the node, the operator
# installed by helm, MinIO with the bucket, the namespace `dev` with its store credentials; prints what to do next.
dev: deps system-deps servers
	npx tsx scripts/dev.ts

deps: $(NPM_STAMP)

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# The native TensorFlow backend (@tensorflow/tfjs-node) built from PyPI's tensorflow-cpu wheel, since its own install
# downloads from a host the registries do not cover; cached in ~/.cache/perennial/native-tfjs, copied back into
# node_modules after every npm ci (scripts/native-tfjs.sh, docs/decisions/0008-native-backend.md).
native-tfjs: deps system-deps
	scripts/native-tfjs.sh

# The Python venvs the integration tier drives real clients and peers from (test/python/*-requirements.txt, pinned),
# cached in ~/.cache/perennial/venvs by the hash of each requirements file.
python-envs: system-deps
	scripts/python-envs.sh

# The Kafka broker the server's Kafka sink is tested against (test/integration/server-kafka.test.ts, bench/server-kafka.ts):
# org.apache.kafka:kafka_2.13 and its dependencies from Maven Central, cached in ~/.cache/perennial/kafka-<version>.
kafka-jars: system-deps
	scripts/kafka-jars.sh

system-deps:
	scripts/install-debian-packages.sh $(DEBIAN_PACKAGES)

servers:
	localcluster/build-servers.sh >/dev/null

# The three images, built from their Dockerfiles with buildah into OCI archives in ~/.cache/perennial/images.
images: deps system-deps
	npx tsx scripts/build-images.ts

typecheck: deps
	npx tsc --noEmit -p .

lint: deps
	npx eslint .

unit: deps
	npx tsx scripts/run-tests.ts unit

integration: deps native-tfjs python-envs kafka-jars servers
	npx tsx scripts/run-tests.ts integration

e2e: deps servers
	npx tsx scripts/run-tests.ts e2e

build: deps
	node scripts/bundle.mjs

cluster: deps servers
	npx tsx localcluster/cli.ts up
