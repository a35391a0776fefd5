"""How long `bin/lab up` takes for 3 nodes: warm (cached image) and, with --cold, with the image
built from scratch first. Run as root from the repository root: .venv/bin/python -m bench.lab
"""

import argparse
import shutil

from bench.timing import summary, timed
from lab import config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--runs", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help="also time one up with the image cache deleted")
    args = parser.parse_args()
    if args.cold:
        timed("bin/lab", "down")
        shutil.rmtree(config.IMAGES_DIR / config.DEFAULT_RELEASE, ignore_errors=True)
        print(summary("lab up, cold (image build included)", [timed("bin/lab", "up")]))
    warm = []
    for _ in range(args.runs):
        timed("bin/lab", "down")
        warm.append(timed("bin/lab", "up"))
    print(summary("lab up, warm (3 nodes)", warm))


if __name__ == "__main__":
    main()
