"""Export the Vega plots of `dvc plots show` (or `dvc plots diff REV...`) as static PNGs, for reports.

    python scripts/export_plots.py                      # the workspace's plots -> dvc_plots/png/
    python scripts/export_plots.py HEAD main -o out/    # a diff of two revisions, as in `dvc plots diff`

Renders locally with vl-convert (no browser, no network). The matplotlib PNGs are copied as they are.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("revisions", nargs="*", help="revisions to compare (default: just the workspace)")
    p.add_argument("-o", "--out", default="dvc_plots/png", help="folder for the PNGs (default: dvc_plots/png)")
    args = p.parse_args()
    import vl_convert

    cmd = ["dvc", "plots", "diff", *args.revisions] if args.revisions else ["dvc", "plots", "show"]
    res = subprocess.run([*cmd, "--json"], capture_output=True, text=True, env=os.environ | {"DVC_NO_ANALYTICS": "1"})
    if res.returncode != 0:
        sys.exit(f"export_plots: `{' '.join(cmd)} --json` failed:\n{res.stderr}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):  # an earlier export's files must not mix with this one's
        old.unlink()
    for plot_id, entries in json.loads(res.stdout)["data"].items():
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", plot_id)
        for entry in entries:
            if entry["type"] == "vega":
                spec = entry["content"]
                for key in ("width", "height"):  # DVC sizes to the page ("container"); a PNG needs pixels
                    if "facet" not in spec and not isinstance(spec.get(key), int):
                        spec[key] = 480 if key == "width" else 300
                target = out / f"vega_{Path(name).stem}.png"  # beside the matplotlib loss.png, not over it
                target.write_bytes(vl_convert.vegalite_to_png(vl_spec=spec, scale=2))
            else:  # an image plot: one entry per revision
                target = out / (f"{entry['revisions'][0]}_{name}" if args.revisions else name)
                shutil.copyfile(entry["url"], target)
            print(f"wrote {target}")


if __name__ == "__main__":
    main()
