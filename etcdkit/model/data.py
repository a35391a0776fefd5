"""What a member's data dir holds, read offline (without its etcd) by the EtcdV2Store and
EtcdDatabase facts."""

from dataclasses import dataclass


@dataclass(frozen=True)
class V2StoreCheck:
    """What `etcdutl check v2store` says of a data dir before its step to etcd 3.6."""

    passed: bool
    output: str  # what it printed besides its verdict


@dataclass(frozen=True)
class DatabaseStatus:
    """What a copy of a member's database holds (`etcdutl snapshot status`); error: why it could
    not be read (the counts are then 0)."""

    revision: int = 0
    keys: int = 0
    size: int = 0  # bytes
    error: str | None = None
