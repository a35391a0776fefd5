#!/usr/bin/env bash
# The floor of `make bench`: the work of creating an etcd cluster, adding a member and removing it
# again, and nothing else: parallel ssh (one multiplexed connection per node, as pyinfra keeps one),
# no checks, no idempotence, no rollback; after each membership change the clients' refresh at its
# least: every member's etcdctl environment rewritten with the new endpoints. etcdkit's SOPs are
# measured against it.
#
#   bench/floor.sh [--join NEW] ADDRESS...
#
# Members etcd-1..etcd-N on the bare nodes ADDRESS... (the lab's: apt from its local repository);
# with --join, NEW then joins as a learner, is promoted, and is removed. Each phase prints one line
# `floor PHASE SECONDS` on stdout (bench/floor.py parses them): install, certs, config, start,
# health, auth (together: create), then join, join_refresh, remove and remove_refresh.
set -euo pipefail
export LC_ALL=C # a decimal point in $EPOCHREALTIME

CLUSTER=etcd
TOKEN=$CLUSTER-$(openssl rand -hex 4)
# Untimed pause before each membership change: etcd refuses one until its members have been
# connected for 5 s (HealthInterval), which a cluster just bootstrapped or changed has not.
SETTLE=${FLOOR_SETTLE:-5}
WORK=$(mktemp -d)
CTL="etcdctl --cacert=/etc/etcd/ca.crt --cert=/etc/etcd/server.crt --key=/etc/etcd/server.key"
LOCAL="$CTL --endpoints=https://127.0.0.1:2379" # the member's own etcd

NEW=
if [ "${1:-}" = --join ]; then
	NEW=$2
	shift 2
fi
MEMBERS=("$@")
FIRST=${MEMBERS[0]}
declare -A SEQ
for i in "${!MEMBERS[@]}"; do SEQ[${MEMBERS[$i]}]=$((i + 1)); done
[ -z "$NEW" ] || SEQ[$NEW]=$((${#MEMBERS[@]} + 1))

cleanup() {
	for address in "${MEMBERS[@]}" $NEW; do ssh -o ControlPath="$WORK/ssh-%h" -O exit "root@$address" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT

on() { # on ADDRESS COMMAND...: run on the node over its multiplexed connection
	local address=$1
	shift
	ssh -o BatchMode=yes -o ControlMaster=auto -o ControlPath="$WORK/ssh-%h" -o ControlPersist=300 "root@$address" "$@"
}

each() { # each FUNCTION ADDRESS...: FUNCTION ADDRESS on every node at once; fails when one fails
	local function=$1 pids=() pid
	shift
	for address in "$@"; do
		"$function" "$address" &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do wait "$pid"; done
}

STARTED=
phase() { # phase NAME: the seconds since the previous phase ended (or `begin`)
	local now=$EPOCHREALTIME
	awk -v name="$1" -v a="$STARTED" -v b="$now" 'BEGIN { printf "floor %s %.3f\n", name, b - a }'
	STARTED=$EPOCHREALTIME
}
begin() { STARTED=$EPOCHREALTIME; }

retry() { # retry COMMAND: the remote command that runs COMMAND until it succeeds, for 60 s at most; else its last error
	echo "for i in \$(seq 600); do out=\$($1 2>&1) && exit 0; sleep 0.1; done; echo \"\$out\" >&2; exit 1"
}

name() { echo "$CLUSTER-${SEQ[$1]}"; }

refresh() { # refresh ADDRESS...: the etcdctl environment of each member, listing them all
	local endpoints address
	endpoints=$(printf "https://%s:2379," "$@")
	for address in "$@"; do
		on "$address" "printf 'export ETCDCTL_ENDPOINTS=%s\n' '${endpoints%,}' >/etc/profile.d/etcdctl.sh" &
	done
	wait
}

install() { # the packages, kept from starting the package's default instance (policy-rc.d)
	on "$1" "printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends etcd-server etcd-client >/dev/null;
		status=\$?; rm -f /usr/sbin/policy-rc.d; exit \$status"
}

certificate() { # the member's key and certificate, issued here by the CA, copied to its node
	local folder=$WORK/$1
	mkdir -p "$folder"
	cp "$WORK/ca.crt" "$folder/ca.crt"
	printf 'subjectAltName=IP:%s,IP:127.0.0.1,DNS:localhost,DNS:%s,DNS:%s.peers.etcd\nextendedKeyUsage=serverAuth,clientAuth\n' \
		"$1" "$(name "$1")" "$CLUSTER" >"$folder/ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$folder/server.key" -subj "/CN=$(name "$1")" 2>/dev/null |
		openssl x509 -req -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -set_serial "0x$(openssl rand -hex 8)" -days 365 \
			-extfile "$folder/ext" -out "$folder/server.crt" 2>/dev/null
	tar -C "$folder" -cf - ca.crt server.crt server.key |
		on "$1" "mkdir -p /etc/etcd && tar -xf - -C /etc/etcd && chown etcd /etc/etcd/server.key && chmod 600 /etc/etcd/server.key"
}

configure() { # configure ADDRESS STATE INITIAL_CLUSTER: etcd.conf, the unit, the data dir
	on "$1" bash -s <<-EOF
		mkdir -p /data/etcd && chown etcd:etcd /data/etcd && chmod 700 /data/etcd
		cat >/etc/etcd/etcd.conf <<CONF
		name: $(name "$1")
		data-dir: /data/etcd
		listen-peer-urls: https://$1:2380
		listen-client-urls: https://$1:2379,https://127.0.0.1:2379
		initial-advertise-peer-urls: https://$1:2380
		advertise-client-urls: https://$1:2379
		initial-cluster: $3
		initial-cluster-token: $TOKEN
		initial-cluster-state: $2
		client-transport-security:
		  cert-file: /etc/etcd/server.crt
		  key-file: /etc/etcd/server.key
		  trusted-ca-file: /etc/etcd/ca.crt
		peer-transport-security:
		  cert-file: /etc/etcd/server.crt
		  key-file: /etc/etcd/server.key
		  trusted-ca-file: /etc/etcd/ca.crt
		  client-cert-auth: true
		CONF
		cat >/etc/systemd/system/etcd.service <<UNIT
		[Unit]
		Description=etcd
		After=network-online.target
		[Service]
		Type=notify
		User=etcd
		ExecStart=/usr/bin/etcd --config-file=/etc/etcd/etcd.conf
		Restart=on-failure
		LimitNOFILE=65536
		[Install]
		WantedBy=multi-user.target
		UNIT
		systemctl daemon-reload
	EOF
}

INITIAL=
for address in "${MEMBERS[@]}"; do INITIAL+="${INITIAL:+,}$(name "$address")=https://$address:2380"; done
configure_new() { configure "$1" new "$INITIAL"; }
start() { on "$1" systemctl start etcd; }

# A new cluster.
begin
each install "${MEMBERS[@]}"
phase install
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/ca.key" -out "$WORK/ca.crt" -days 365 \
	-subj "/CN=$CLUSTER-ca" 2>/dev/null
each certificate "${MEMBERS[@]}"
phase certs
each configure_new "${MEMBERS[@]}"
phase config
each start "${MEMBERS[@]}"
phase start
ENDPOINTS=$(printf "https://%s:2379," "${MEMBERS[@]}")
on "$FIRST" "$(retry "$CTL --endpoints=${ENDPOINTS%,} endpoint health")"
phase health
PASSWORD=$(openssl rand -hex 16)
echo "$PASSWORD" | on "$FIRST" "$LOCAL user add root --interactive=false >/dev/null && $LOCAL user grant-role root root >/dev/null &&
	$LOCAL auth enable >/dev/null"
phase auth
[ -n "$NEW" ] || exit 0

# A learner added and promoted; the same member removed.
AS_ROOT="$LOCAL --user=root:$PASSWORD"
sleep "$SETTLE"
begin
install "$NEW"
certificate "$NEW"
added=$(on "$FIRST" "$AS_ROOT member add $(name "$NEW") --learner --peer-urls=https://$NEW:2380")
id=$(sed -n 's/^Member \([0-9a-f]*\) added.*/\1/p' <<<"$added")
# its ID again from the member list when the add's own answer did not show it (seen once in make bench)
[ -n "$id" ] || id=$(on "$FIRST" "$AS_ROOT member list" | awk -F', ' -v url="https://$NEW:2380" '$4 == url { print $1 }')
[ -n "$id" ] || { echo "no member $(name "$NEW") after the member add, which answered: $added" >&2; exit 1; }
configure "$NEW" existing "$(sed -n 's/^ETCD_INITIAL_CLUSTER="\(.*\)"$/\1/p' <<<"$added")"
start "$NEW"
# through the leader: a follower forwards a promotion and, refused while the learner catches up, holds
# each try for the whole command timeout (5 s; seen on the lab: the loop then never ended in time)
leader=$(on "$FIRST" "$AS_ROOT endpoint status --cluster" | awk -F', ' '$5 == "true" { print $1 }')
on "$FIRST" "$(retry "$CTL --endpoints=$leader --user=root:$PASSWORD member promote $id")"
phase join
refresh "${MEMBERS[@]}" "$NEW"
phase join_refresh
sleep "$SETTLE"
begin
on "$FIRST" "$(retry "$AS_ROOT member remove $id")"
on "$NEW" "systemctl stop etcd && rm -rf /data/etcd"
phase remove
refresh "${MEMBERS[@]}"
phase remove_refresh
