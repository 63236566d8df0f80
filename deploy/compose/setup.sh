#!/bin/bash
# One-shot setup of the compose stack, run in the Elasticsearch image as root (deploy/compose.yaml, service setup).
# Idempotent: what exists is kept. It
#   1. makes a CA and certificates for es01, kibana and redis (elasticsearch-certutil), in the certs volume;
#   2. writes a random Tor control password into the secrets volume;
#   3. waits for Elasticsearch (HTTPS, verified against the CA), sets the kibana_system password;
#   4. creates darkcrawl's API key, limited to its indices (<prefix>-*), and writes it to the secrets volume.
# Secrets are never printed.
set -euo pipefail

: "${ELASTIC_PASSWORD:?set ELASTIC_PASSWORD in deploy/.env}"
: "${KIBANA_PASSWORD:?set KIBANA_PASSWORD in deploy/.env}"
PREFIX="${DARKCRAWL_ES_INDEX_PREFIX:-darkcrawl}"
CERTS=/usr/share/elasticsearch/config/certs
SECRETS=/secrets
CRAWLER_UID=10001   # the darkcrawl user of deploy/Dockerfile
ES_UID=1000           # elasticsearch and kibana images
REDIS_UID=999         # redis image
cd /usr/share/elasticsearch

if [ ! -f "$CERTS/ca/ca.crt" ]; then
    echo "setup: creating the CA"
    bin/elasticsearch-certutil ca --silent --pem --out "$CERTS/ca.zip"
    unzip -q -o "$CERTS/ca.zip" -d "$CERTS"
fi
if [ ! -f "$CERTS/es01/es01.crt" ]; then
    echo "setup: creating the certificates of es01, kibana, redis"
    cat > "$CERTS/instances.yml" <<INSTANCES
instances:
  - name: es01
    dns: [es01, localhost]
    ip: [127.0.0.1]
  - name: kibana
    dns: [kibana, localhost]
    ip: [127.0.0.1]
  - name: redis
    dns: [redis, localhost]
    ip: [127.0.0.1]
INSTANCES
    bin/elasticsearch-certutil cert --silent --pem --in "$CERTS/instances.yml" --out "$CERTS/certs.zip" \
        --ca-cert "$CERTS/ca/ca.crt" --ca-key "$CERTS/ca/ca.key"
    unzip -q -o "$CERTS/certs.zip" -d "$CERTS"
fi
# certificates readable by all; each private key by its service only; the CA key by root only
find "$CERTS" -type d -exec chmod 0755 {} +
find "$CERTS" -type f -exec chmod 0644 {} +
chmod 0600 "$CERTS/ca/ca.key" "$CERTS"/*/*.key
chown "$ES_UID" "$CERTS/es01/es01.key" "$CERTS/kibana/kibana.key"
chown "$REDIS_UID" "$CERTS/redis/redis.key"
chown root "$CERTS/ca/ca.key"

mkdir -p "$SECRETS"
chmod 0750 "$SECRETS"
chown "root:$CRAWLER_UID" "$SECRETS" 2>/dev/null || chown "root" "$SECRETS"
if [ ! -s "$SECRETS/tor-control-password" ]; then
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$SECRETS/tor-control-password"
fi

echo "setup: waiting for Elasticsearch at https://es01:9200"
until curl -s --cacert "$CERTS/ca/ca.crt" https://es01:9200 | grep -q "missing authentication credentials"; do
    sleep 5
done

echo "setup: setting the kibana_system password"
until curl -s -o /dev/null -w "%{http_code}" --cacert "$CERTS/ca/ca.crt" -u "elastic:${ELASTIC_PASSWORD}" \
        -X POST -H "Content-Type: application/json" https://es01:9200/_security/user/kibana_system/_password \
        -d "{\"password\":\"${KIBANA_PASSWORD}\"}" | grep -q "^200$"; do
    sleep 5
done

if [ ! -s "$SECRETS/es-api-key" ]; then
    echo "setup: creating darkcrawl's API key (indices ${PREFIX}-*)"
    answer=$(curl -s --fail --cacert "$CERTS/ca/ca.crt" -u "elastic:${ELASTIC_PASSWORD}" -X POST \
        -H "Content-Type: application/json" https://es01:9200/_security/api_key -d @- <<KEY
{"name": "darkcrawl",
 "role_descriptors": {"darkcrawl": {
   "cluster": ["monitor", "manage_index_templates"],
   "indices": [{"names": ["${PREFIX}-*"], "privileges": ["all"]}]}},
 "metadata": {"application": "darkcrawl"}}
KEY
    )
    encoded=$(printf '%s' "$answer" | sed -n 's/.*"encoded":"\([^"]*\)".*/\1/p')
    if [ -z "$encoded" ]; then
        echo "setup: Elasticsearch did not return an API key" >&2
        exit 1
    fi
    umask 077
    printf '%s' "$encoded" > "$SECRETS/es-api-key"
fi
chmod 0440 "$SECRETS/es-api-key" "$SECRETS/tor-control-password"
chown "root:$CRAWLER_UID" "$SECRETS/es-api-key" "$SECRETS/tor-control-password" 2>/dev/null || true
echo "setup: done"
