"""Facts about Patroni on a PostgreSQL host: its role, as its REST API says.

`GET /patroni` needs no credentials (Patroni's REST API authenticates only the requests that
change something), and answers even when Patroni cannot reach etcd, which is when reload matters;
`patronictl list` needs the DCS and a user allowed to read the config (its etcd password).
"""

import json

from pyinfra.api import FactBase

from etcdkit.remote.services import patroni_state


class PatroniRole(FactBase):
    """
    The role Patroni reports (`primary`, `master` before Patroni 3, `replica`, `standby_leader`, ...);
    None when it does not answer.

    + url: its REST API's /patroni endpoint
    """

    requires_command = "python3"  # Patroni's own interpreter: its API is read with it

    def command(self, url: str):
        return patroni_state(url)

    def process(self, output):
        try:
            answer = json.loads("\n".join(output))
        except ValueError:
            return None
        role = answer.get("role") if isinstance(answer, dict) else None
        return role if isinstance(role, str) else None
