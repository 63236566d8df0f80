#!/bin/sh
# The compose stack's tor: SOCKS and control ports on 127.0.0.1 only. The worker and the scheduler share this
# container's network namespace (network_mode: service:tor), so hostnames go to Tor over loopback and never cross
# a network. The control port takes the password the setup service wrote (stored hashed in the torrc).
set -eu
password=$(cat /run/secrets/darkcrawl/tor-control-password)
hashed=$(tor --quiet --hash-password "$password" | tail -n 1)
mkdir -p /var/lib/darkcrawl/tor
chmod 0700 /var/lib/darkcrawl/tor
cat > /var/lib/darkcrawl/torrc <<TORRC
DataDirectory /var/lib/darkcrawl/tor
SocksPort 127.0.0.1:9050 IsolateSOCKSAuth
ControlPort 127.0.0.1:9051
HashedControlPassword $hashed
CookieAuthentication 0
ClientOnly 1
Log notice stdout
TORRC
exec tor -f /var/lib/darkcrawl/torrc
