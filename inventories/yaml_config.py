"""Pigsty's YAML config as an inventory: `ETCD_CONFIG=FILE pyinfra inventories/yaml_config.py DEPLOY`.

The mapping and its checks live in etcdkit/model/yaml_config.py.
"""

import os

from pyinfra.api.exceptions import InventoryError as PyinfraInventoryError

from etcdkit.model.inventory import InventoryError
from etcdkit.model.yaml_config import groups_from_env

try:
    # pyinfra reads the groups from this module's globals: names such as `pg-test` need no identifier.
    globals().update(groups_from_env(os.environ))
except InventoryError as error:
    # A pyinfra error is shown as a message, any other exception as a traceback.
    raise PyinfraInventoryError(str(error)) from None
