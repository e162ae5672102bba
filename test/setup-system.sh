#!/usr/bin/env bash
# System packages the test suite uses besides node_modules: openssl (throwaway TLS
# certificates) and Python's own protobuf/grpc/websockets stacks (the independent
# Jina-style interop client). Installs what is missing when it can (root + apt).
set -euo pipefail
need=()
command -v openssl >/dev/null || need+=(openssl)
command -v protoc >/dev/null || need+=(protobuf-compiler)
/usr/bin/python3 -c 'import grpc, google.protobuf, websockets' 2>/dev/null \
  || need+=(python3 python3-grpcio python3-protobuf python3-websockets)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing test system packages: ${need[*]}" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "missing test system packages: ${need[*]} (install them with apt-get)" >&2
  exit 1
fi
