#!/bin/sh
# darkcrawl's container entrypoint: reads the secrets the compose stack keeps in files (written by its setup
# service, never in the compose file or the image) into darkcrawl's settings, then runs the command.
#   /run/secrets/darkcrawl/es-api-key        -> DARKCRAWL_ES_API_KEY (unless already set)
#   /run/secrets/darkcrawl/tor-control-password -> DARKCRAWL_TOR_CONTROL_PASSWORD (unless already set)
set -eu
secrets=/run/secrets/darkcrawl
if [ -z "${DARKCRAWL_ES_API_KEY:-}" ] && [ -r "$secrets/es-api-key" ]; then
    DARKCRAWL_ES_API_KEY=$(cat "$secrets/es-api-key")
    export DARKCRAWL_ES_API_KEY
fi
if [ -z "${DARKCRAWL_TOR_CONTROL_PASSWORD:-}" ] && [ -r "$secrets/tor-control-password" ]; then
    DARKCRAWL_TOR_CONTROL_PASSWORD=$(cat "$secrets/tor-control-password")
    export DARKCRAWL_TOR_CONTROL_PASSWORD
fi
exec "$@"
