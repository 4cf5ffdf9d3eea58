"""Stage page: the page template that makes `dvc plots show` and `dvc plots diff` render offline.

DVC's own page loads Vega, Vega-Lite and Vega-Embed from a CDN, so without a network its charts
are blank, with no message. vl-convert (a pip package) carries a bundle of all three: inlined
here into a page template, which .dvc/config names as `plots.html_template`. No npm, no network.
"""

import vl_convert

from seqmem.artifacts import write_text
from seqmem.cli import run
from stages.common import parser

PAGE = """<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8">
    <title>seqmem: dvc plots</title>
    <script>/* Vega, Vega-Lite and Vega-Embed, bundled by vl-convert {version} */
{bundle}
    </script>
    <style>
        body {{ font-family: sans-serif; margin: 16px; }}
        table {{ border-spacing: 15px; }}
        img {{ max-width: 46vw; height: auto; }}  /* a two-revision diff of the PNGs fits side by side */
    </style>
</head>
<body>
    <p>seqmem. Colour is the model (RNN blue, LSTM orange, GRU green); in a diff, the dash pattern (or
    point shape) is the revision. Which params an experiment changed: <code>dvc exp show --only-changed</code>.</p>
    {{plot_divs}}
</body>
</html>
"""


def main(args) -> None:
    bundle = vl_convert.javascript_bundle()
    if "</script" in bundle or "{plot_divs}" in bundle or "{scripts}" in bundle:  # would break the page
        raise RuntimeError("vl-convert's bundle can't be inlined as is")
    write_text(PAGE.format(version=vl_convert.__version__, bundle=bundle), args.out)


def cli(argv: list[str] | None = None) -> None:
    """Command line: see --help."""
    p = parser(__doc__)
    p.add_argument("--out", required=True, help="page template to write")
    run(main, p.parse_args(argv))


if __name__ == "__main__":
    cli()
