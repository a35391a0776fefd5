# Print the values of some keys of a YAML file as JSON, secrets as their SHA-256 only:
# python3 -c SCRIPT PATH KEYS_JSON SECRETS_JSON.  A key "a.b" is key b of mapping a. Missing file: null.
import hashlib
import json
import sys

import yaml

path, keys, secrets = sys.argv[1], json.loads(sys.argv[2]), set(json.loads(sys.argv[3]))
try:
    with open(path) as f:
        document = yaml.safe_load(f) or {}
except FileNotFoundError:
    print("null")
    sys.exit(0)
values = {}
for key in keys:
    node = document
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if key in secrets and node is not None:
        node = "sha256:" + hashlib.sha256(str(node).encode()).hexdigest()
    values[key] = node
print(json.dumps(values))
