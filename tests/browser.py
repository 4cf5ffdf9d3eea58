"""What the explorer's browser tests share: Debian's chromium driven by playwright, pages opened offline,
checkpoints written as the spec's .safetensors, and the page's own seeded digits."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic"]
NEEDS_CHROMIUM = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH: `apt-get install chromium` "
                                                             "(.ci/run installs it where missing)")


def model_path(repo: Path, flavor: str) -> Path:
    """A model's checkpoint as dvc.yaml names it for stage explorer (models/{flavor}.pt, or .safetensors)."""
    cmd = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]["explorer"]["cmd"].split()
    return repo / cmd[cmd.index("--model") + 1].replace("{flavor}", flavor)


def launch() -> Iterator:
    """A headless chromium (Debian's: playwright never downloads one here), closed after."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is missing: pip install -e '.[dev]'")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def open_page(browser, html: Path, fragment: str = "", width: int = 1440, height: int = 900):
    """The page from file://, with the network off; page.errors collects its uncaught errors, page.fetched any URL
    it asked for that is not the file itself or a blob of its own."""
    context = browser.new_context(offline=True, viewport={"width": width, "height": height})
    page = context.new_page()
    page.errors, page.fetched = [], []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: r.url.startswith(("file:", "blob:", "data:")) or page.fetched.append(r.url))
    page.goto(html.as_uri() + fragment)
    page.wait_for_function("window.explorer !== undefined")
    return page


def memory_done(page, timeout: float = 60_000) -> dict:
    page.wait_for_function("document.getElementById('memory-box').dataset.state === 'done'", timeout=timeout)
    return page.evaluate("explorer.memory()")


def drop(page, name: str, data: bytes) -> None:
    """Drop a file on the page, as a person drags one from their file manager."""
    transfer = page.evaluate_handle("""([name, bytes]) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], name));
        return dt;
    }""", [name, list(data)])
    page.dispatch_event("body", "drop", {"dataTransfer": transfer})


def checkpoint_bytes(state: dict[str, np.ndarray], config: dict, train: dict | None = None) -> bytes:
    """A checkpoint's bytes as seqmem.checkpoint.write_checkpoint writes them."""
    from seqmem.checkpoint import Checkpoint, write_checkpoint
    from seqmem.core.config import ModelConfig

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.safetensors"
        write_checkpoint(Checkpoint(ModelConfig.from_dict(config, "config"), state, train), path)
        return path.read_bytes()


def safetensors_bytes(state: dict[str, np.ndarray], config: object, train: dict | None = None) -> bytes:
    """A file in the spec's layout whose config may be anything (safetensors' own writer, no checks)."""
    from safetensors.numpy import save

    meta = {"format": 1, "config": config, "train": train}
    return save({k: np.ascontiguousarray(v, np.float32) for k, v in state.items()},
                metadata={"seqmem": json.dumps(meta, sort_keys=True)})


def random_state(flavor: str, hidden_size: int, num_layers: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Weights of the shapes a config implies, random at torch's init scale."""
    from seqmem.core.config import weight_shapes

    rng = np.random.default_rng(seed)
    scale = 1 / np.sqrt(hidden_size)
    return {k: rng.uniform(-2 * scale, 2 * scale, s).astype(np.float32)
            for k, s in weight_shapes(flavor, hidden_size, num_layers).items()}


def page_digits(seed: int, n: int) -> np.ndarray:
    """engine.js's digits(seed, n): mulberry32, so a test can run the library on the page's memory sequence."""
    a, out = seed & 0xFFFFFFFF, np.empty(n, np.int64)
    mask = 0xFFFFFFFF

    def imul(x: int, y: int) -> int:
        return (x * y) & mask

    for i in range(n):
        a = (a + 0x6D2B79F5) & mask
        t = imul(a ^ (a >> 15), 1 | a)
        t = ((t + imul(t ^ (t >> 7), 61 | t)) & mask) ^ t
        out[i] = ((t ^ (t >> 14)) & mask) * 10 // 2**32
    return out
