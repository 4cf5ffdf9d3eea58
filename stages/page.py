"""Stage page: the page template that makes `dvc plots show` and `dvc plots diff` render offline.

DVC's own page loads Vega, Vega-Lite and Vega-Embed from a CDN, so without a network its charts
are blank, with no message. vl-convert (a pip package) carries a bundle of all three: inlined
here into a page template, which .dvc/config names as `plots.html_template`. No npm, no network.
"""

import errno
import os
from pathlib import Path

from seqmem.core.artifacts import atomic_path, write_text
from stages.common import command

# V8, inside vl-convert, reserves a heap cage of tens of GB of address space (not memory) at start
# and aborts the process when it can't (measured: 57 GiB of `ulimit -v` fails, 67 GiB works). A
# cgroup memory limit, which containers use, limits memory, not address space: 1 GiB is plenty.
V8_ADDRESS_SPACE = 64 << 30


def _address_space() -> None:
    """Lift a soft `ulimit -v` to its hard limit; refuse in one line where that is still too small for V8."""
    try:
        import resource  # POSIX only: Windows has no `ulimit -v`
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or hard > soft):
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        soft = hard
    if soft != resource.RLIM_INFINITY and soft < V8_ADDRESS_SPACE:
        raise OSError(errno.ENOMEM, f"`ulimit -v` is {soft >> 10:,} KB, and vl-convert's V8 needs about "
                                    f"{V8_ADDRESS_SPACE >> 30} GiB of address space to start; run without "
                                    "`ulimit -v` (a cgroup memory limit is fine), then `dvc repro page`")

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
        div > div:only-of-type > img {{ max-width: 94vw; }}  /* one revision: the page's width, for 3 models too */
    </style>
</head>
<body>
    <p>seqmem. In every chart of lines, colour and a point's shape are the model (RNN blue circles, LSTM
    orange squares, GRU green triangles); in a diff, the dash pattern is the revision. In the staircase and
    the attractor plane, colour is P(a -1 was seen). Which params an experiment changed:
    <code>dvc exp show --only-changed</code>.</p>
    {{plot_divs}}
</body>
</html>
"""


def _inlinable(bundle: str) -> bool:
    """A bundle that can go inside the page's <script> and through str.format as it is."""
    return bool(bundle) and "</script" not in bundle and "{plot_divs}" not in bundle and "{scripts}" not in bundle


def _bundle(version: str) -> str:
    """vl-convert's bundle of Vega, Vega-Lite and Vega-Embed, kept per version in the user's cache.

    Bundling starts V8 and takes ~1.8 s, the same bytes each time for one vl-convert version; read
    from the cache it takes milliseconds, so `dvc repro -f` and each queued experiment's checkout
    do not pay it again. A cached file that is unreadable or could not be inlined is made anew; an
    unwritable cache folder only costs the time.
    """
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    cached = home / "seqmem" / "vl-convert" / f"{version}.js"
    try:
        bundle = cached.read_bytes().decode("utf-8")
        if _inlinable(bundle):
            return bundle
    except (OSError, UnicodeDecodeError):
        pass
    _address_space()
    import vl_convert  # only now: V8 must not start under an address-space limit it can't live with

    bundle = vl_convert.javascript_bundle()
    if not _inlinable(bundle):  # would break the page
        raise RuntimeError("vl-convert's bundle can't be inlined as is")
    try:
        with atomic_path(cached) as tmp:  # a concurrent stage reads the whole bundle or none
            tmp.write_bytes(bundle.encode("utf-8"))
    except OSError:
        pass
    return bundle


def main(args) -> None:
    from importlib.metadata import version

    vl = version("vl-convert-python")
    write_text(PAGE.format(version=vl, bundle=_bundle(vl)), args.out)


cli = command(__doc__, main, {
    "--out": "page template to write",
})


if __name__ == "__main__":
    cli()
