#!/usr/bin/env bash
# Fails when a module includes a module above it. The layers, lowest first:
#   common/    header-only helpers: includes no other module
#   protocol/  RESP: may include common/ only
#   storage/   the keyspace: may include common/ only (no RESP, no server)
#   persistence/ RDB encodings and files: may include common/ and storage/
#   server/    the process: may include everything below it
# Inside server/, command families never reach into the network layer
# (families/ includes no net/connection.h): they see a client through
# ClientState and the CommandContext only.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
check() {  # check DIR FORBIDDEN_REGEX WHY
  local dir=$1 forbidden=$2 why=$3 hits
  hits=$(grep -rnE "^#include \"($forbidden)" "$dir" 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "layer violation: $why"
    echo "$hits"
    status=1
  fi
}
check common 'protocol/|storage/|server/' 'common/ must not include another module'
check protocol 'storage/|server/' 'protocol/ must not include storage/ or server/'
check storage 'protocol/|persistence/|server/' 'storage/ must not include protocol/, persistence/ or server/'
check persistence 'protocol/|server/' 'persistence/ must not include protocol/ or server/'
check server/families 'server/net/connection\.h' 'families/ must not include the connection'
[ $status -eq 0 ] && echo "layers: ok (common < protocol, storage < persistence < server)"
exit $status
