#!/usr/bin/env bash
# make-test-ca.sh DIR -- a throwaway CA made at test time, and certificates signed by it:
#   ca.pem/ca.key              the test CA
#   server.pem/server.key      CN=localhost, SAN DNS:localhost, DNS:*.test, IP:127.0.0.1, IP:::1
#   client.pem/client.key      CN=mtrk-agent-test (clientAuth), for mutual TLS
#   rogue-ca.pem, rogue-client.pem/.key   a second, untrusted CA and a client it signed
# EC P-256 keys: fast to make. Extra server names: MTRK_TEST_SANS="DNS:mtqp.a.test,DNS:..."
set -euo pipefail
dir=${1:?usage: make-test-ca.sh DIR}
mkdir -p "$dir"
cd "$dir"
days=2
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() {  # ca NAME CN
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days $days -out "$1.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
leaf() {  # leaf NAME CN CA EXTFILE-CONTENT
  key "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$4" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days $days \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
ca ca "mtrk test CA"
sans="DNS:localhost,DNS:*.test,IP:127.0.0.1,IP:::1${MTRK_TEST_SANS:+,$MTRK_TEST_SANS}"
leaf server localhost ca "subjectAltName=$sans
extendedKeyUsage=serverAuth"
leaf client mtrk-agent-test ca "extendedKeyUsage=clientAuth"
ca rogue-ca "rogue CA"
leaf rogue-client rogue-agent rogue-ca "extendedKeyUsage=clientAuth"
chmod 600 ./*.key
