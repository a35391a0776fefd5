"""What a member's data dir holds, read offline (without its etcd) by the EtcdV2Store and
EtcdDatabase facts."""

from dataclasses import dataclass


@dataclass(frozen=True)
class V2StoreCheck:
    """What `etcdutl check v2store` says of a data dir before its step to etcd 3.6."""

    passed: bool
    output: str  # what it printed besides its verdict
