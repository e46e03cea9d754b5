"""Regenerate tests/golden/expected/ from tests/golden/inputs/ with the current rules.

Review the diff of tests/golden/expected before committing: it is the upgrader's behaviour on realistic
DAGs. tests/upgrade/test_golden.py fails until expected and actual agree.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.upgrade.test_golden import GOLDEN, TARGETS, migrate  # noqa: E402

if __name__ == "__main__":
    for target in TARGETS:
        for source in sorted(p.name for p in (GOLDEN / "inputs").iterdir() if p.is_dir()):
            out = GOLDEN / "expected" / f"target-{target}" / source
            if out.exists():
                shutil.rmtree(out)
            migrate(GOLDEN / "inputs" / source, out, target)
            print(f"wrote {out.relative_to(ROOT)}")
