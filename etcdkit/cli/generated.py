"""The command line of the files rendered from etcdkit/model/params.py (bin/gen-parameters-doc,
bin/gen-settings): write the file, or print it with --stdout."""

import argparse
import sys
from collections.abc import Callable
from pathlib import Path


def write_generated(script: str, path: str, render: Callable[[], str], argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=script, description=f"Write {path} from etcdkit/model/params.py.")
    parser.add_argument("--stdout", action="store_true", help="print it instead")
    args = parser.parse_args(argv)
    if args.stdout:
        sys.stdout.write(render())
    else:
        Path(path).write_text(render(), encoding="utf-8")
        print(f"wrote {path}")
    return 0
