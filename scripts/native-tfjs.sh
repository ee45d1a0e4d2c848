#!/usr/bin/env bash
# Builds @tensorflow/tfjs-node, the native TensorFlow backend, without its install script and installs it into
# node_modules. The package's install script downloads libtensorflow from storage.googleapis.com and its prebuilt
# addon from the same host; neither is needed: the TensorFlow C API ships inside PyPI's tensorflow-cpu wheel
# (libtensorflow_cc.so.2 exports every TF_/TFE_ function the binding calls, headers in tensorflow/include), and the
# addon compiles from the package's own binding/*.cc against it.
#
# Cached in ~/.cache/perennial/native-tfjs by what determines the result (tfjs version, wheel version, Node ABI), so
# a fresh clone on the same machine reuses it; `npm ci` removes node_modules/@tensorflow/tfjs-node, and the next run
# copies it back in seconds. Idempotent: a complete install is left alone.
#
# The copy in node_modules holds the package's JavaScript, its own runtime dependencies and the addon; its deps/
# folder is a symbolic link to the cached libraries (560 MB), which the addon finds through its rpath
# ($ORIGIN/../../deps/lib). It must sit inside this repository's node_modules: the package requires
# @tensorflow/tfjs, which has to resolve to the project's copy so that the backend registers in the same engine.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tf_wheel_version=${PERENNIAL_TF_WHEEL_VERSION:-2.13.1}
cache=${PERENNIAL_CACHE_DIR:-$HOME/.cache/perennial}/native-tfjs

fail() {
  echo "native-tfjs: $*" >&2
  exit 1
}
say() { echo "native-tfjs: $*" >&2; }

[[ -f $root/node_modules/@tensorflow/tfjs/package.json ]] || fail "node_modules/@tensorflow/tfjs is missing: run 'npm ci' (make deps) first"
tfjs_version=$(node -p "require('$root/node_modules/@tensorflow/tfjs/package.json').version")
node_abi=$(node -p process.versions.modules)
build="$cache/tfjs-node-$tfjs_version-tf-$tf_wheel_version-abi$node_abi"
target="$root/node_modules/@tensorflow/tfjs-node"

# 1. The wheel (187 MB), downloaded once by pip from PyPI.
wheel_file() { ls "$cache"/wheels/tensorflow_cpu-"$tf_wheel_version"-*.whl 2>/dev/null | head -n 1; }
fetch_wheel() {
  [[ -n $(wheel_file) ]] && return
  python3 -m pip --version >/dev/null 2>&1 || fail "pip is needed to download tensorflow-cpu from PyPI: apt-get install -y python3-pip"
  say "downloading tensorflow-cpu==$tf_wheel_version from PyPI (the TensorFlow C library, 187 MB)"
  mkdir -p "$cache/wheels"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 --platform manylinux2014_x86_64 \
    --dest "$cache/wheels" "tensorflow-cpu==$tf_wheel_version" || fail "pip download tensorflow-cpu==$tf_wheel_version failed (PyPI reachable?)"
  [[ -n $(wheel_file) ]] || fail "pip downloaded no tensorflow_cpu-$tf_wheel_version wheel into $cache/wheels"
}

# 2. The package from npm, its runtime dependencies, the C library and headers from the wheel, the addon compiled.
build_package() {
  local work="$build.partial.$$"
  rm -rf "$work"
  mkdir -p "$work"
  trap 'rm -rf "$work"' EXIT
  say "building @tensorflow/tfjs-node@$tfjs_version against tensorflow-cpu $tf_wheel_version in $build"
  (cd "$work" && npm pack --silent "@tensorflow/tfjs-node@$tfjs_version" >/dev/null) || fail "npm pack @tensorflow/tfjs-node@$tfjs_version failed (npm registry reachable?)"
  tar -xzf "$work"/tensorflow-tfjs-node-*.tgz -C "$work"
  local pkg="$work/package"
  # Its runtime dependencies, without its install script (the download) and without @tensorflow/tfjs, which must
  # resolve to the project's copy (one engine, one set of registered backends).
  (cd "$pkg" && npm install --silent --omit=dev --ignore-scripts --no-package-lock --no-audit --no-fund) || fail "npm install of tfjs-node's dependencies failed"
  rm -rf "$pkg/node_modules/@tensorflow"
  # The C library, under the names binding.gyp links (-ltensorflow -ltensorflow_framework); the addon records the
  # libraries' own sonames (libtensorflow_cc.so.2, libtensorflow_framework.so.2), which the real files carry.
  mkdir -p "$pkg/deps/lib" "$pkg/deps/include"
  python3 - "$(wheel_file)" "$pkg/deps" <<'PY' || fail "extracting the TensorFlow C library from the wheel failed"
import sys, zipfile, os, shutil
wheel, deps = sys.argv[1], sys.argv[2]
libs = {'tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'}
# The C API headers and what they include (tensorflow/core/platform, tsl).
headers = ('tensorflow/include/tensorflow/c/', 'tensorflow/include/tensorflow/core/platform/', 'tensorflow/include/tensorflow/tsl/', 'tensorflow/include/tsl/')
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name in libs:
            out = os.path.join(deps, 'lib', os.path.basename(name))
        elif name.startswith(headers) and name.endswith('.h'):
            out = os.path.join(deps, 'include', name[len('tensorflow/include/'):])
        else:
            continue
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(name) as src, open(out, 'wb') as dst:
            shutil.copyfileobj(src, dst)
PY
  ln -s libtensorflow_cc.so.2 "$pkg/deps/lib/libtensorflow.so"
  ln -s libtensorflow_framework.so.2 "$pkg/deps/lib/libtensorflow_framework.so"
  # node-gyp finds Node's headers in the Node installation (Debian: /usr/include/node) instead of downloading them.
  local nodedir
  nodedir=$(node -p "require('path').resolve(process.execPath, '../..')")
  [[ -f $nodedir/include/node/node_api.h ]] || fail "Node's headers are not in $nodedir/include/node (Debian: apt-get install -y libnode-dev)"
  command -v g++ >/dev/null && command -v make >/dev/null || fail "compiling the addon needs g++ and make: apt-get install -y g++ make"
  (cd "$pkg" && npm_config_nodedir="$nodedir" node node_modules/@mapbox/node-pre-gyp/bin/node-pre-gyp rebuild --build-from-source --build-latest-napi-version-only --silent >"$work/gyp.log" 2>&1) \
    || { tail -n 30 "$work/gyp.log" >&2; fail "compiling tfjs_binding.node failed (log above)"; }
  rm -rf "$pkg/build" "$pkg"/build-tmp-*
  # Another checkout may have finished the same build meanwhile: keep the first (mv -T does not nest into it).
  mv -T "$pkg" "$build" 2>/dev/null || [[ -f $build/lib/napi-v8/tfjs_binding.node ]] || fail "cannot move the build to $build"
  rm -rf "$work"
  trap - EXIT
}

# 3. The copy in node_modules: everything but deps/, which links to the cache.
install_package() {
  rm -rf "$target"
  mkdir -p "$target"
  (cd "$build" && find . -mindepth 1 -maxdepth 1 ! -name deps -exec cp -a {} "$target/" \;)
  ln -s "$build/deps" "$target/deps"
  echo "$build" >"$target/.perennial-native-build"
}

# The check that it really works: the project's tfjs runs a matrix product on the native backend.
verify() {
  (cd "$root" && node -e "
    const tf = require('@tensorflow/tfjs');
    require('@tensorflow/tfjs-node');
    tf.setBackend('tensorflow').then((ok) => {
      if (!ok || tf.getBackend() !== 'tensorflow') throw new Error('backend tensorflow did not initialise');
      const r = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0];
      if (r !== 11) throw new Error('matMul gave ' + r);
    }).catch((e) => { console.error(e); process.exit(1); });
  " 2>"$cache/verify.log") || { tail -n 20 "$cache/verify.log" >&2; fail "the built @tensorflow/tfjs-node does not load (log above)"; }
}

if [[ -f $target/.perennial-native-build && $(cat "$target/.perennial-native-build") == "$build" && -e $target/deps/lib/libtensorflow_cc.so.2 ]]; then
  exit 0
fi
if [[ ! -f $build/lib/napi-v8/tfjs_binding.node ]]; then
  fetch_wheel
  rm -rf "$build"
  build_package
fi
install_package
verify
say "@tensorflow/tfjs-node@$tfjs_version installed (TensorFlow $tf_wheel_version from PyPI; cache $build)"
