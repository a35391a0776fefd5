# Set some keys of a YAML file, keeping every other key, its owner and its mode (never readable by
# others: it holds passwords): python3 -c SCRIPT PATH VALUES_JSON_FILE.  A key "a.b" is key b of mapping a.
import json
import os
import sys
import tempfile

import yaml

path, values_file = sys.argv[1], sys.argv[2]
with open(values_file) as f:
    values = json.load(f)
with open(path) as f:
    document = yaml.safe_load(f) or {}
for key, value in values.items():
    node, parts = document, key.split(".")
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value
stat = os.stat(path)
fd, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".etcdkit-")
with os.fdopen(fd, "w") as f:
    yaml.safe_dump(document, f, default_flow_style=False, sort_keys=False)
os.chown(temporary, stat.st_uid, stat.st_gid)
os.chmod(temporary, stat.st_mode & 0o7770)
os.replace(temporary, path)
