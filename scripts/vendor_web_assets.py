"""Copy the web site's front-end libraries from node_modules into the package's static files.

Input: ``node_modules/`` made by ``npm ci`` from the committed ``package.json`` and
``package-lock.json``. Output: the minified files the pages load, under
``src/lanner/web/static/vendor/`` (committed, so ``pip install .`` needs no npm), and
``vendor/LICENSES.md`` with each library's version and licence text. Run after changing a
version in ``package.json``:

    npm ci && python scripts/vendor_web_assets.py
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODULES = REPO / "node_modules"
VENDOR = REPO / "src" / "lanner" / "web" / "static" / "vendor"

#: npm package -> (file in the package, name under vendor/).
FILES = {
    "htmx.org": ("dist/htmx.min.js", "htmx.min.js"),
    "plotly.js-dist-min": ("plotly.min.js", "plotly.min.js"),
    "aladin-lite": ("dist/aladin.js", "aladin.js"),
}


def main() -> int:
    if not MODULES.is_dir():
        print("node_modules/ not found: run `npm ci` first", file=sys.stderr)
        return 1
    VENDOR.mkdir(parents=True, exist_ok=True)
    notes = [
        "# Front-end libraries served from Lanner's own static files",
        "",
        "Installed from the npm registry (`package-lock.json`), copied here by",
        "`scripts/vendor_web_assets.py`. Each is distributed under its own licence, below.",
        "",
    ]
    for package, (source, target) in FILES.items():
        root = MODULES / package
        meta = json.loads((root / "package.json").read_text())
        shutil.copyfile(root / source, VENDOR / target)
        licence = next((p for p in sorted(root.glob("LICEN[CS]E*"))), None)
        notes += [
            f"## {package} {meta['version']} — `{target}`",
            "",
            f"Licence: {meta.get('license', 'see below')}. Source: {meta.get('homepage', '')}",
            "",
        ]
        if licence is not None:
            notes += ["```", licence.read_text().strip(), "```", ""]
    (VENDOR / "LICENSES.md").write_text("\n".join(notes))
    for path in sorted(VENDOR.iterdir()):
        print(f"{path.stat().st_size:>10,d}  {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
