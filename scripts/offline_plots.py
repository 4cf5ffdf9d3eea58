"""Make `dvc plots show` and `dvc plots diff` render offline: a page template with Vega inlined.

    python scripts/offline_plots.py     # once: fetch with npm, write the template, set it in .dvc/config.local
    dvc plots show                      # dvc_plots/index.html now renders with no network

DVC's default page loads Vega, Vega-Lite and Vega-Embed from a CDN, so offline or in an
air-gapped CI it shows blank charts. This fetches the three npm packages (the versions DVC's own
page asks for), inlines their minified builds into .vega/template.html (git-ignored: fetched, not
vendored) and points `plots.html_template` at it in .dvc/config.local (not committed either).
Pass --no-config to only write the template, for `dvc plots show --html-template .vega/template.html`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
from pathlib import Path

PACKAGES = {"vega": "5.20.2", "vega-lite": "5.2.0", "vega-embed": "6.18.2"}  # as in dvc_render's page
ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".vega"
TEMPLATE = CACHE / "template.html"

PAGE = """<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8">
    <title>DVC Plot</title>
{scripts}
    <style>
        table {{ border-spacing: 15px; }}
    </style>
</head>
<body>
    {{plot_divs}}
</body>
</html>
"""


def fetch(name: str, version: str) -> str:
    """The package's minified browser build, from its npm tarball (cached in .vega/)."""
    tgz = CACHE / f"{name}-{version}.tgz"
    if not tgz.exists():
        subprocess.run(["npm", "pack", "--silent", f"{name}@{version}", "--pack-destination", str(CACHE)],
                       check=True, stdout=subprocess.DEVNULL)
    with tarfile.open(tgz) as tar:
        js = tar.extractfile(f"package/build/{name}.min.js").read().decode()
    if "</script" in js or "{plot_divs}" in js:  # would end the inline <script> or be mistaken for a slot
        sys.exit(f"offline_plots: {name}@{version} cannot be inlined as is")
    return js


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--no-config", action="store_true", help="write the template only; leave .dvc/config.local")
    args = p.parse_args()
    CACHE.mkdir(exist_ok=True)
    scripts = "\n".join(f"    <script>/* {n}@{v} */\n{fetch(n, v)}\n    </script>" for n, v in PACKAGES.items())
    tmp = TEMPLATE.with_suffix(".tmp")
    tmp.write_text(PAGE.format(scripts=scripts))
    os.replace(tmp, TEMPLATE)
    print(f"wrote {TEMPLATE.relative_to(ROOT)} ({TEMPLATE.stat().st_size // 1024} KiB)")
    if not args.no_config:
        # DVC reads config paths relative to the config file's folder, .dvc/
        subprocess.run(["dvc", "config", "--local", "plots.html_template", "../.vega/template.html"], cwd=ROOT,
                       check=True, env=os.environ | {"DVC_NO_ANALYTICS": "1"})
        print("set plots.html_template in .dvc/config.local: `dvc plots show` and `dvc plots diff` now use it")


if __name__ == "__main__":
    main()
