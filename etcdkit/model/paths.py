"""Where things live on a member, as Pigsty lays them out, and who owns them."""

CONF_DIR = "/etc/etcd"
CONF = "/etc/etcd/etcd.conf"
PASS = "/etc/etcd/etcd.pass"
CA = "/etc/etcd/ca.crt"
CERT = "/etc/etcd/server.crt"
KEY = "/etc/etcd/server.key"
UNIT = "/etc/systemd/system/etcd.service"
ENV = "/etc/profile.d/etcdctl.sh"
# Holds the MainPID of an etcd process that predates a configuration change needing a restart. It is
# in /run on purpose: a reboot restarts etcd, and with it the reason to restart.
RESTART_PENDING = "/run/etcd.restart-pending"
SERVICE = "etcd.service"
# Scheduled backups (etcd_backup_schedule): the script the service runs, the timer that starts it,
# and the textfile-collector file it writes in etcd_backup_metric_dir.
BACKUP_SCRIPT = "/etc/etcd/backup.sh"
BACKUP_SERVICE = "/etc/systemd/system/etcd-backup.service"
BACKUP_TIMER = "/etc/systemd/system/etcd-backup.timer"
BACKUP_TIMER_UNIT = "etcd-backup.timer"
BACKUP_METRIC = "etcd_backup.prom"

# path -> (owner, group, mode) of the files a member gets: etcd reads them, and may write none of
# them but its key (it owns its key so that nobody else can read it)
OWNERS = {
    CA: ("root", "etcd", "644"),
    CERT: ("root", "etcd", "644"),
    KEY: ("etcd", "etcd", "600"),
    PASS: ("root", "etcd", "640"),
    CONF: ("root", "etcd", "644"),
    ENV: ("root", "root", "644"),
    UNIT: ("root", "root", "644"),
    BACKUP_SCRIPT: ("root", "root", "700"),
    BACKUP_SERVICE: ("root", "root", "644"),
    BACKUP_TIMER: ("root", "root", "644"),
}

# On the hosts of etcd's clients (Patroni, vip-manager): the cluster's CA, to verify the members.
CLIENT_DIR = "/etc/etcd-client"
CLIENT_CA = "/etc/etcd-client/ca.crt"
# On the admin hosts (etcd_client_group): the control node's admin certificate and the root password.
ADMIN_CERT = "/etc/etcd-client/admin.crt"
ADMIN_KEY = "/etc/etcd-client/admin.key"
ADMIN_PASS = "/etc/etcd-client/root.pass"
# Passwords of the cluster's client users, on the member that manages them (root only).
USERS_DIR = "/etc/etcd/users"
