#!/usr/bin/env bash
# Generates the TLS material of the 3-node KurrentDB cluster in docker-compose.yml
# (profile `cluster`) with openssl: a private CA and one certificate per node.
#
#   deploy/certs.sh [output-dir]        # default: deploy/certs
#
# Output:  ca/ca.crt ca/ca.key  node1/node.crt node1/node.key  node2/…  node3/…
# Each node certificate has the common name KurrentDB expects of cluster members
# (KURRENTDB_CERTIFICATE_RESERVED_NODE_COMMON_NAME in docker-compose.yml) and
# names the node by its compose host name, its fixed IP and localhost. Clients
# (Provenant) trust ca/ca.crt through EVENTSTORE_CA_FILE. Existing files are
# kept; delete the directory to start over. For development and tests only: in
# production, use your organisation's CA.
set -euo pipefail

out="${1:-$(dirname "$0")/certs}"
days="${CERT_DAYS:-825}"
node_cn="provenant-kurrentdb-node"

command -v openssl >/dev/null || { echo "certs.sh: openssl is required" >&2; exit 1; }
mkdir -p "$out/ca"
umask 077

if [[ ! -f "$out/ca/ca.key" ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$days" \
    -keyout "$out/ca/ca.key" -out "$out/ca/ca.crt" \
    -subj "/CN=Provenant KurrentDB dev CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
  echo "certs.sh: wrote $out/ca/ca.crt"
fi

for i in 1 2 3; do
  dir="$out/node$i"
  [[ -f "$dir/node.crt" ]] && continue
  mkdir -p "$dir"
  ext="$(mktemp)"
  trap 'rm -f "$ext"' EXIT
  cat >"$ext" <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:node$i,DNS:localhost,IP:172.30.240.1$i,IP:127.0.0.1
EXT
  openssl req -newkey rsa:2048 -nodes -sha256 \
    -keyout "$dir/node.key" -out "$dir/node.csr" -subj "/CN=$node_cn"
  openssl x509 -req -sha256 -days "$days" -in "$dir/node.csr" \
    -CA "$out/ca/ca.crt" -CAkey "$out/ca/ca.key" -CAcreateserial \
    -extfile "$ext" -out "$dir/node.crt"
  rm -f "$dir/node.csr" "$ext"
  echo "certs.sh: wrote $dir/node.crt"
done

# The containers run KurrentDB as a non-root user: the files must be readable by it.
chmod 755 "$out" "$out"/ca "$out"/node1 "$out"/node2 "$out"/node3
chmod 644 "$out"/ca/ca.crt "$out"/node*/node.crt "$out"/node*/node.key
echo "certs.sh: done; the CA key $out/ca/ca.key stays private (0600)"
