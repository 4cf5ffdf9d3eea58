"""What no param check can catch: an exhausted machine, an address-space limit, list order, a missing lock."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers import ENV, ROOT, sh, tiny_params, write_params

PNGS = ("loss", "traces", "staircase", "hidden", "retention", "attractors")


def _limit_address_space(kb: int, soft_only: bool = False):
    def limit() -> None:
        import resource  # POSIX only: the tests that use this are marked posix

        hard = resource.RLIM_INFINITY if soft_only else kb << 10
        resource.setrlimit(resource.RLIMIT_AS, (kb << 10, hard))
    return limit


def _address_space_limits_hold() -> bool:
    """Whether setrlimit(RLIMIT_AS) takes here: qemu-user ignores it (it would bound the emulator) and reads back
    unlimited, so under emulated aarch64 `ulimit -v` limits nothing."""
    try:
        import resource
    except ImportError:  # Windows
        return False
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = 1 << 40 if hard == resource.RLIM_INFINITY else hard  # a limit this process stays far below
    resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    try:
        return resource.getrlimit(resource.RLIMIT_AS)[0] == want
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


ULIMIT_V = pytest.mark.skipif(not _address_space_limits_hold(), reason="setrlimit(RLIMIT_AS) does not take here "
                              "(qemu-user ignores it), so an address-space limit can't be tested")


@pytest.mark.posix
@ULIMIT_V
def test_out_of_memory_is_one_line_exit_3_and_writes_nothing(tmp_path):
    params = tiny_params()
    params["data"]["num_sequences"] = 2_000_000  # 50 M steps: fits the budget, not a 500 MB address space
    write_params(tmp_path, params)
    res = subprocess.run(["python", "-m", "stages.generate", "--out", str(tmp_path / "val.npz")], cwd=tmp_path,
                         env=ENV | {"PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                         preexec_fn=_limit_address_space(500_000))
    assert res.returncode == 3
    assert res.stderr == "error (internal): out of memory (MemoryError), rerun with --debug\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]


@pytest.mark.posix
@ULIMIT_V
def test_the_page_stage_under_ulimit_v_says_why_in_one_line(repo, tmp_path):
    env = ENV | {"XDG_CACHE_HOME": str(tmp_path / "cache")}  # no bundle cached yet: V8 must start
    res = subprocess.run(["dvc", "repro", "-f", "-s", "page"], cwd=repo, env=env, capture_output=True, text=True,
                         preexec_fn=_limit_address_space(8_000_000))
    assert res.returncode != 0
    assert "error (os): `ulimit -v` is 8,000,000 KB, and vl-convert's V8 needs about 64 GiB" in res.stderr
    assert "Fatal process out of memory" not in res.stderr + res.stdout
    # a soft limit alone is lifted to the hard one, which is unlimited here: the page is made
    res = subprocess.run(["dvc", "repro", "-f", "-s", "page"], cwd=repo, env=env, capture_output=True, text=True,
                         preexec_fn=_limit_address_space(8_000_000, soft_only=True))
    assert res.returncode == 0, res.stderr
    assert sh("git", "status", "--porcelain", cwd=repo).stdout == ""  # the same page, byte for byte
    # and now the bundle is cached: no V8, so even the hard limit makes the same page
    res = subprocess.run(["dvc", "repro", "-f", "-s", "page"], cwd=repo, env=env, capture_output=True, text=True,
                         preexec_fn=_limit_address_space(8_000_000))
    assert res.returncode == 0, res.stderr
    assert sh("git", "status", "--porcelain", cwd=repo).stdout == ""


def test_a_broken_cached_bundle_is_made_anew(tmp_path, monkeypatch):
    from importlib.metadata import version

    from stages import page

    cached = tmp_path / "cache/seqmem/vl-convert" / f"{version('vl-convert-python')}.js"
    cached.parent.mkdir(parents=True)
    cached.write_text("alert(1)</script>")  # tampered with, or cut short by a full disk
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    page.cli(["--out", str(tmp_path / "page.html")])
    assert (tmp_path / "page.html").read_bytes() == (ROOT / "plots/page.html").read_bytes()
    assert "</script" not in cached.read_text() and len(cached.read_text()) > 100_000  # repaired


def test_the_figures_draw_each_model_in_its_colour_whatever_the_list_order(repo):
    before = {name: (repo / f"plots/{name}.png").read_bytes() for name in PNGS}
    params = tiny_params()
    params["flavors"] = ["lstm", "rnn"]
    write_params(repo, params)
    sh("dvc", "repro", cwd=repo)
    assert {name: (repo / f"plots/{name}.png").read_bytes() for name in PNGS} == before


def test_check_repro_without_dvc_lock_says_so_in_one_line_from_anywhere(repo, tmp_path):
    (repo / "dvc.lock").unlink()
    for cwd in (repo, tmp_path):  # from the repo, and from another folder
        res = subprocess.run(["python", str(repo / "scripts/check_repro.py")], cwd=cwd, env=ENV,
                             capture_output=True, text=True)
        assert res.returncode == 2
        assert res.stdout.count("\n") == 1
        assert "dvc.lock is missing, so there is nothing to compare against" in res.stdout


@pytest.mark.slow
def test_check_repro_run_from_another_folder_checks_its_own_repo(repo, tmp_path):
    res = subprocess.run(["python", str(Path(repo) / "scripts/check_repro.py")], cwd=tmp_path, env=ENV,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout
    assert "check_repro: OK" in res.stdout
