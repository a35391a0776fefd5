"""What etcd's authentication does on a member, and what is in place of a client's etcd user, as
the EtcdAuth and EtcdUser facts find them by behaviour (etcd 3.4 has no `auth status`)."""

from dataclasses import astuple, dataclass


@dataclass(frozen=True)
class AuthState:
    """How a member treats requests; all False: it does not answer (yet)."""

    anonymous: bool = False  # a request without credentials is served: authentication is off
    root: bool = False  # root logs in with the password of /etc/etcd/etcd.pass
    refused: bool = False  # the member answers but refuses that password

    @property
    def answered(self) -> bool:
        return any(astuple(self))


@dataclass(frozen=True)
class UserState:
    """An etcd user limited to a key prefix; all False: nothing of it is in place (or no answer)."""

    user: bool = False  # it exists
    permission: bool = False  # its role of the same name has readwrite on the prefix
    role: bool = False  # it has that role
    login: bool = False  # it logs in with the password of its file

    @property
    def complete(self) -> bool:
        return all(astuple(self))
