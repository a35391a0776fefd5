"""What a change of the live members or of the credentials asks of Patroni and vip-manager."""

from etcdkit.facts.yaml import hashed

from etcdkit.plans import patroni as clients

URLS = ["https://10.10.10.10:2379", "https://10.10.10.11:2379"]


def current_patroni(**changes) -> dict:
    """The YamlKeys fact of a Patroni config that is up to date, with some values changed."""
    values = clients.patroni_change("/etc/patroni/patroni.yml", {}, URLS, "pg-test", "secret").values
    return hashed({**values, **changes}, clients.SECRETS)


def test_no_config_means_no_client_there():
    assert clients.patroni_change("/etc/patroni/patroni.yml", None, URLS, "pg-test", "secret") is None
    assert clients.vip_change("/etc/default/vip-manager.yml", None, URLS, "pg-test", "secret") is None


def test_patroni_is_reloaded_for_hosts_and_credentials_and_restarted_for_tls():
    def action(current):
        return clients.patroni_change("/etc/patroni/patroni.yml", current, URLS, "pg-test", "secret").action

    assert action(current_patroni()) is None
    assert action(current_patroni(**{"etcd3.hosts": ["10.10.10.12:2379"]})) == "reload"
    assert action(current_patroni(**{"etcd3.password": "old"})) == "reload"
    assert action(current_patroni(**{"etcd3.cacert": "/elsewhere/ca.crt"})) == "restart"
    assert action({"etcd3.hosts": ["10.10.10.10:2379"], "etcd3.protocol": "https"}) == "restart"


def test_patroni_hosts_are_host_port_and_secrets_are_compared_by_hash():
    change = clients.patroni_change("/etc/patroni/patroni.yml", {}, URLS, "pg-test", "secret")
    assert change.values["etcd3.hosts"] == ["10.10.10.10:2379", "10.10.10.11:2379"]
    assert hashed(change.values, clients.SECRETS)["etcd3.password"].startswith("sha256:")
    assert "secret" not in str(hashed(change.values, clients.SECRETS))


def test_vip_manager_restarts_on_any_change():
    change = clients.vip_change("/etc/default/vip-manager.yml", {}, URLS, "pg-test", "secret")
    assert change.action == "restart" and change.values["dcs-endpoints"] == URLS
    assert (
        clients.vip_change("/etc/default/vip-manager.yml", hashed(change.values, clients.SECRETS), URLS, "pg-test", "secret").action is None
    )


def test_the_password_is_written_even_when_the_run_generates_it():
    """The plan compares with None when the password does not exist yet; the write still sets it."""
    password = object()  # the Secret the run reads when it executes
    patroni = clients.patroni_change("/etc/patroni/patroni.yml", {}, URLS, "pg-test", None)
    assert clients.to_write(patroni, password)["etcd3.password"] is password
    vip = clients.vip_change("/etc/default/vip-manager.yml", {}, URLS, "pg-test", None)
    written = clients.to_write(vip, password)
    assert written["etcd-password"] is password and written["etcd_password"] is None  # the old name removed
