"""Fail if a SAFECLASS_* variable read by safeclass/settings.py is missing from
docs/configuration.md, so the configuration page never falls behind the code.

    .venv/bin/python scripts/check-config-docs.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# env("NAME", ...), env_bool("NAME", ...), env_int("NAME", ...) in settings.py.
READ = re.compile(r"\benv(?:_bool|_int)?\(\s*\"([A-Z][A-Z0-9_]*)\"")


def main() -> int:
    settings = (ROOT / "safeclass" / "settings.py").read_text()
    docs = (ROOT / "docs" / "configuration.md").read_text()
    names = sorted(set(READ.findall(settings)))
    missing = [name for name in names if f"SAFECLASS_{name}`" not in docs]
    if missing:
        print("docs/configuration.md does not describe: "
              + ", ".join(f"SAFECLASS_{name}" for name in missing), file=sys.stderr)
        return 1
    print(f"docs/configuration.md describes all {len(names)} SAFECLASS_* settings.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
