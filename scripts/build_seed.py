"""Build data/seed.sqlite from data/catalogue.toml.

Usage: python scripts/build_seed.py [CATALOGUE_TOML] [OUTPUT_SQLITE]
"""

from __future__ import annotations

import sys
from pathlib import Path

from papercli.seed import load_catalogue
from papercli.store.shipped import build_seed

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "data" / "catalogue.toml"
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "data" / "seed.sqlite"
    count = build_seed(load_catalogue(source), target)
    print(f"wrote {target} ({count} papers)")


if __name__ == "__main__":
    main()
