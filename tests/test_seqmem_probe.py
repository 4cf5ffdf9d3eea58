"""seqmem-probe: a chosen sequence in, the per-step decision out; bad input refused, nothing written."""

import ast
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from seqmem import cli as probe_cli
from seqmem.cli import main as cli
from seqmem.cli import parse_sequence
from seqmem.model import SequenceClassifier, save_checkpoint
from tests.crafted_checkpoints import respell, set_weight
from tests.helpers import ENV, with_ctrl_c


@pytest.fixture
def model_file(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "lstm.safetensors"
    save_checkpoint(SequenceClassifier(torch.nn.LSTM, hidden_size=4), path)
    return path


def test_prints_a_row_per_step_and_marks_the_minus_one(model_file, tmp_path, capsys):
    cli(["--model", str(model_file), "1", "2", "3", "-1", "5", "6", "--png", str(tmp_path / "t.png")])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line[:4].strip().isdigit()]
    assert len(rows) == 6
    assert rows[3].split()[:2] == ["3", "-1"]
    assert rows[3].endswith("<- -1")
    assert "the -1 arrives at step 3" in out
    assert out.startswith("lstm from")
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"


def test_from_the_command_line_it_prints_all_and_writes_all_before_it_ends(model_file, tmp_path, capsys):
    # the command line ends the process without Python's teardown (os._exit): nothing may be lost to it
    def args(png: str) -> list[str]:
        return ["--model", str(model_file), "--table", "--png", str(tmp_path / png), *["3"] * 300, "-1", "4"]

    cli(args("in_python.png"))
    probe = str(Path(sys.executable).parent / "seqmem-probe")
    buffered = {k: v for k, v in ENV.items() if k != "PYTHONUNBUFFERED"}  # as in most shells: stdout is buffered
    res = subprocess.run([probe, *args("t.png")], capture_output=True, text=True, env=buffered)
    assert res.returncode == 0, res.stderr
    assert res.stdout == capsys.readouterr().out.replace("in_python.png", "t.png")  # a row for each of 302 steps
    assert (tmp_path / "t.png").read_bytes() == (tmp_path / "in_python.png").read_bytes()


def test_commas_files_and_long_sequences(model_file, tmp_path, capsys):
    assert parse_sequence(["1,2", "3 -1"]).tolist() == [1, 2, 3, -1]
    (tmp_path / "seq.txt").write_text(",".join(["7"] * 500 + ["-1"] + ["7"] * 499))
    cli(["--model", str(model_file), "--file", str(tmp_path / "seq.txt")])
    out = capsys.readouterr().out
    assert "1000 steps" in out
    assert "step  token" not in out
    assert "the -1 arrives at step 500" in out


def _corrupt(path):
    path.write_bytes(path.read_bytes()[:100])


def _resize(path):
    respell(path, '"hidden_size":4', '"hidden_size":9')


def _nan(path):
    set_weight(path, "head.0.bias", float("nan"))


def _binary_file(path):
    (path.parent / "seq.txt").write_bytes(b"1 2 \xff\xfe 3")


@pytest.mark.parametrize("args, fix, message", [
    (["1,,2"], None, "an empty value at position 1 (two commas in a row, or a stray one)"),
    (["1", "2,"], None, "an empty value at position 2"),
    pytest.param(["--file", "/dev/zero"], None, "--file /dev/zero: not a text file (it holds NUL bytes)",
                 marks=pytest.mark.linux),
    (["--file", "{dir}/seq.txt"], _binary_file, "/seq.txt: not a text file (invalid start byte at byte 4)"),
    (["--file", "{dir}/none.txt"], None, "cannot read --file"),
    (["1", "2", "--png", "{dir}"], None, "is a folder; give a file name"),
    (["1", "2"], _nan, "weights hold NaN or inf (head.0.bias): a diverged training run?"),
    (["1", "x", "3"], None, "token 'x' at position 1 is not an integer"),
    (["1", "2.5"], None, "token '2.5' at position 1 is not an integer"),
    (["1", "10"], None, "value 10 at position 1 is outside -1..9"),
    (["-2"], None, "value -2 at position 0 is outside -1..9"),
    ([], None, "the sequence is empty"),
    ([" , "], None, "the sequence is empty"),
    (["1", "2"], "missing", "no such model file"),
    (["1", "2"], _corrupt, "not a seqmem checkpoint"),
    (["1", "2"], _resize, "do not match config"),
])
def test_bad_input_exits_2_with_a_clear_message_and_writes_nothing(args, fix, message, model_file, tmp_path,
                                                                   capsys):
    if fix == "missing":
        model_file.unlink()
    elif fix:
        fix(model_file)
    png = tmp_path / "out.png"
    args = [a.replace("{dir}", str(tmp_path)) for a in args]
    with pytest.raises(SystemExit) as e:
        cli(["--model", str(model_file), *(["--png", str(png)] if "--png" not in args else []), *args])
    assert e.value.code == 2
    assert message in capsys.readouterr().err
    assert not png.exists()


def test_two_minus_ones_are_probed_and_said_to_be_outside_the_task(model_file, capsys):
    cli(["--model", str(model_file), "1", "-1", "2", "-1", "3"])
    out = capsys.readouterr().out
    assert "the -1 arrives at step 1" in out
    assert "note: 2 -1s (steps 1, 3): a task sequence holds at most one" in out
    cli(["--model", str(model_file), "1", "-1", "2"])
    assert "note:" not in capsys.readouterr().out


def test_console_script_is_installed(model_file):
    exe = shutil.which("seqmem-probe", path=ENV["PATH"])
    assert exe, "seqmem-probe is not on PATH: was the project installed with pip install -e ."
    res = subprocess.run([exe, "--model", str(model_file), "4", "-1"], capture_output=True, text=True, env=ENV)
    assert res.returncode == 0
    assert "the -1 arrives at step 1" in res.stdout


@pytest.mark.linux
def test_an_unwritable_png_is_one_line_and_exit_1(model_file, capsys):
    with pytest.raises(SystemExit) as e:
        cli(["--model", str(model_file), "1", "-1", "--png", "/proc/seqmem/trace.png"])
    err = capsys.readouterr().err
    assert e.value.code == 1
    assert err.startswith("error (os): /proc/seqmem")
    assert err.count("\n") == 1


def test_too_long_input_is_refused_before_it_is_parsed(model_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(probe_cli, "MAX_CHARS", 100)
    (tmp_path / "seq.txt").write_text("1 " * 51)
    with pytest.raises(SystemExit) as e:
        cli(["--model", str(model_file), "--file", str(tmp_path / "seq.txt")])
    assert e.value.code == 2
    assert "more than 0 MB of text; seqmem-probe takes at most" in capsys.readouterr().err
    monkeypatch.setattr(probe_cli, "MAX_PROBE_STEPS", 10)
    with pytest.raises(ValueError, match="more than 10 steps"):
        parse_sequence(["1"] * 11)
    assert len(parse_sequence(["1"] * 10)) == 10


def test_the_documented_example_is_the_committed_lstms_output(capsys):
    from tests.helpers import ROOT

    if not (ROOT / "models/lstm.safetensors").exists():
        pytest.skip("models/lstm.safetensors not built: run `dvc repro` first")
    page = (ROOT / "docs/seqmem-probe.md").read_text()
    block = page.split("$ seqmem-probe --model models/lstm.safetensors 1 2 3 -1 5 6 7 8\n", 1)[1].split("```", 1)[0]
    cli(["--model", str(ROOT / "models/lstm.safetensors"), "1", "2", "3", "-1", "5", "6", "7", "8"])
    assert capsys.readouterr().out.replace(str(ROOT) + "/", "") == block


def test_the_help_shows_the_docstring_as_written_on_every_python():
    # Python 3.13 strips a docstring's indentation when it compiles it; the source's text, which the AST
    # keeps on every version, is what --help and docs/seqmem-probe.md show
    written = ast.get_docstring(ast.parse(Path(probe_cli.__file__).read_text()), clean=False)
    assert probe_cli.parser().description == written
    assert "\n    seqmem-probe --model models/lstm.safetensors 1 2 3 -1 5 6\n" in probe_cli.parser().format_help()


@pytest.mark.parametrize("token", ["+1", "01", "١", "１", "1_0", "00"])
def test_a_number_not_written_as_the_task_writes_it_is_named_as_given(token, model_file, capsys):
    with pytest.raises(SystemExit) as e:
        cli(["--model", str(model_file), token, "2", "-1"])
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert f"token {token!r} at position 0 is not one of -1 0 1 2 3 4 5 6 7 8 9" in err


def test_a_comma_sequence_may_start_with_minus_one(model_file, capsys):
    cli(["--model", str(model_file), "-1,2", "3"])
    out = capsys.readouterr().out
    assert "3 steps" in out
    assert "the -1 arrives at step 0" in out


@pytest.mark.parametrize("target", ["--model", "--file", "symlink to --model"])
def test_png_never_overwrites_an_input(target, model_file, tmp_path, capsys):
    seq = tmp_path / "seq.png"
    seq.write_text("1 2 -1")
    model_file = model_file.rename(model_file.with_suffix(".png"))  # a model whose name ends in .png
    png = {"--model": model_file, "--file": seq, "symlink to --model": tmp_path / "link.png"}[target]
    if target.startswith("symlink"):
        png.symlink_to(model_file)
    before = {p: p.read_bytes() for p in (model_file, seq)}
    with pytest.raises(SystemExit) as e:
        cli(["--model", str(model_file), "--file", str(seq), "--png", str(png)])
    assert e.value.code == 2
    assert "writing it would destroy an input" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in (model_file, seq)} == before


def test_png_must_be_named_png(model_file, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        cli(["--model", str(model_file), "1", "-1", "--png", str(tmp_path / "t.svg")])
    assert e.value.code == 2
    assert "the name must end in .png" in capsys.readouterr().err
    assert not (tmp_path / "t.svg").exists()


# read's number in Linux's /proc/<pid>/syscall: 0 on x86-64, 63 on aarch64. Either, whatever this machine is:
# under qemu-user an aarch64 process is an x86-64 emulator, whose reads are the host's
READ_SYSCALLS = ("0 0x0 ", "63 0x0 ")


def _wait_reading_stdin(proc: subprocess.Popen, timeout: float = 60) -> None:
    """Until proc sits in read(0, ...): Linux's /proc/<pid>/syscall then starts with read's number and fd 0."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{proc.pid}/syscall").read_text().startswith(READ_SYSCALLS):
                return
        except OSError:  # no procfs here: fall back to a generous wait
            time.sleep(5)
            return
        time.sleep(0.05)
    raise AssertionError(f"seqmem-probe did not start reading stdin within {timeout} s")


@pytest.mark.posix
def test_ctrl_c_while_reading_stdin_is_one_line(model_file):
    exe = shutil.which("seqmem-probe", path=ENV["PATH"])
    proc = subprocess.Popen(with_ctrl_c([exe, "--model", str(model_file), "--file", "-"]), stdin=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)
    proc.stdin.write("1 2 ")
    proc.stdin.flush()
    _wait_reading_stdin(proc)  # imports done, blocked on stdin: however long the imports took
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err == "interrupted: no output was written\n"
