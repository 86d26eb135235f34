#!/usr/bin/env bash
# make-ca.sh DIR — a throwaway test PKI, made at test time (nothing is checked in):
#   DIR/ca.pem, DIR/ca.key          the test CA (EC P-256, 2 days)
#   DIR/server.pem, DIR/server.key  a server certificate signed by it, SAN IP:127.0.0.1 + DNS:localhost
#   DIR/wrong-ca.pem                a second, unrelated CA: verifying the server against it must fail
# Private keys are mode 0600. Prints KEY=VALUE lines (CA_FILE, CERT_FILE, KEY_FILE, WRONG_CA_FILE).
set -euo pipefail
dir=${1:?usage: make-ca.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
umask 077
cd "$dir"

ext=$(mktemp "$dir/.ext.XXXXXX")
trap 'rm -f "$ext" "$dir/server.csr" "$dir/ca.srl"' EXIT

# The test CA.
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout ca.key -out ca.pem -days 2 -subj "/O=writebackd tests/CN=writebackd test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

# The server certificate (loopback only).
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout server.key -out server.csr -subj "/O=writebackd tests/CN=127.0.0.1" 2>/dev/null
cat >"$ext" <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EOF
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile "$ext" -out server.pem 2>/dev/null

# An unrelated CA, for "wrong CA is refused" tests.
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout wrong-ca.key -out wrong-ca.pem -days 2 -subj "/O=somebody else/CN=unrelated CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
rm -f wrong-ca.key

chmod 0644 ca.pem server.pem wrong-ca.pem
chmod 0600 ca.key server.key
echo "CA_FILE=$dir/ca.pem"
echo "CERT_FILE=$dir/server.pem"
echo "KEY_FILE=$dir/server.key"
echo "WRONG_CA_FILE=$dir/wrong-ca.pem"
