"""Execute the notebooks and save the charts they draw as the pictures of the README and docs.

The pictures are real outputs, not drawings: each notebook runs in a kernel against the
simulator it starts itself (as the tests run them), and the last frame of a chart cell is
written to ``docs/images/``.  Run from the project root after changing a notebook or a chart::

    python3 notebooks/export_images.py            # needs the notebook and dev extras

``RXFEEDS_NOTEBOOK_SECONDS`` (default 15 here) sets how long each live cell runs.
"""

from __future__ import annotations

import base64
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images"

#: picture -> (notebook, text that identifies the chart cell)
PICTURES = {
    "depth-chart.png": ("02-order-book-depth-chart.ipynb", "DepthChart"),
    "candles.png": ("03-klines-from-trades.ipynb", "candlestick_chart"),
}


def last_png(notebook: Path, marker: str, seconds: str) -> bytes:
    """The last PNG the first code cell containing ``marker`` displayed."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    env = dict(os.environ, RXFEEDS_NOTEBOOK_SECONDS=seconds, PYTHONPATH=str(ROOT))
    os.environ.update(env)  # the kernel inherits this process's environment
    with tempfile.TemporaryDirectory() as cwd:
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": cwd}}).execute()
    for cell in nb.cells:
        if cell.cell_type == "code" and marker in cell.source:
            pngs = [o["data"]["image/png"] for o in cell.outputs if "image/png" in o.get("data", {})]
            if pngs:
                return base64.b64decode(pngs[-1])
    raise SystemExit(f"{notebook.name}: no cell with {marker!r} drew a picture")


def main() -> None:
    seconds = os.environ.get("RXFEEDS_NOTEBOOK_SECONDS", "15")
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (notebook, marker) in PICTURES.items():
        png = last_png(ROOT / "notebooks" / notebook, marker, seconds)
        (OUT / name).write_bytes(png)
        print(f"{OUT / name}: {len(png)} bytes from {notebook}", file=sys.stderr)


if __name__ == "__main__":
    main()
