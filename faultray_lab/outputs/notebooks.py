"""Executing the project's notebooks with papermill: the main job (``faultray-lab reproduce``)
and the HTML report's notebook.

Kernels' own log lines (for example ipykernel's transport warning) go to a log file that is
shown only when an execution fails, so a successful run prints just its progress.

Examples
--------
>>> sorted(versions())[:2]
['faultray-lab', 'matplotlib']
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..common.errors import InputError
from ..common.files import atomic_write_text


@contextlib.contextmanager
def kernel_log(path: Path) -> Iterator[None]:
    """Send the kernel process's own log lines (written to file descriptor 2) to ``path``.

    They are shown on stderr only if the execution fails.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    failed = False
    try:
        with open(path, "wb") as log:
            os.dup2(log.fileno(), 2)
            try:
                yield
            except BaseException:
                failed = True
                raise
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
    finally:
        os.close(saved)
        if failed and path.exists():
            sys.stderr.write(path.read_text(errors="replace")[-4000:])


def execute_notebook(notebook: str | os.PathLike[str], output: str | os.PathLike[str] | None,
                     parameters: Mapping[str, Any] | None = None, *,
                     cwd: str | os.PathLike[str] | None = None, kernel: str = "python3",
                     timeout: int | None = None) -> Any:
    """Run one notebook with papermill (quiet kernel log) and return the executed notebook.

    ``output`` None keeps the executed notebook in memory only.
    """
    import papermill as pm

    with tempfile.TemporaryDirectory(prefix="faultray-kernel-") as tmp, \
            kernel_log(Path(tmp) / "kernel.log"):
        return pm.execute_notebook(
            str(notebook), None if output is None else str(output),
            parameters=dict(parameters or {}), kernel_name=kernel, progress_bar=False,
            cwd=None if cwd is None else str(cwd), execution_timeout=timeout,
            start_timeout=300, log_output=False)  # a busy machine starts kernels slowly


def notebook_summary(nb: Any) -> list[Any]:
    """The JSON outputs of the cells tagged ``summary`` of an executed notebook."""
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "summary" not in cell.metadata.get("tags", []):
            continue
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            if "application/json" in data:
                out.append(data["application/json"])
    return out


def versions() -> dict[str, str]:
    """Versions of Python and the libraries a reproduction depends on (for summary.json)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("faultray-lab", "numpy", "scipy", "pandas", "networkx", "matplotlib",
                "papermill"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _execute_one(book: Path, params: dict[str, Any], kernel: str) -> tuple[dict[str, Any], Any]:
    """Run one notebook for :func:`run_notebooks`: ``(record fields, executed notebook or
    None)``; any failure is recorded, never raised (an interruption is)."""
    try:
        nb = execute_notebook(book, None, params, cwd=book.parent.resolve(), kernel=kernel)
        return {"status": "ok", "summary": notebook_summary(nb)}, nb
    except Exception as exc:  # noqa: BLE001 - any failure is recorded, the run goes on
        error = (str(exc).strip().splitlines() or [type(exc).__name__])[-1][:500]
        return {"status": "failed", "error": error}, None


def run_notebooks(notebook_dir: str, output: str, kernel: str = "python3",
                  progress: bool = True, full: bool = False, jobs: int = 1) -> dict[str, Any]:
    """Execute every notebook of ``notebook_dir`` with papermill; see ``faultray-lab reproduce``.

    Notebooks that declare an ``output_dir`` parameter write their figures to
    ``output/figures``; with ``full``, notebooks that declare a ``full`` parameter run their
    full-size statistics (for example 1,000 label permutations instead of 50), as reported in
    the README. ``jobs`` > 1 runs that many notebooks at once, each in its own process (the
    notebooks are independent; their figures have distinct names).

    ``output/summary.json`` always tells the state of ``output``: before the first notebook
    runs it is replaced by one with ``"status": "running"`` and ``"ok": false`` (and rewritten
    after each notebook), so a killed run never leaves an earlier run's ``"ok": true`` beside new
    notebooks; an interruption the process sees (Ctrl-C, an error) writes
    ``"status": "interrupted"``; the final summary (``"status": "complete"``) is written last.
    Its notebooks are listed by name whatever order they finished in. A notebook that fails
    has its earlier executed copy removed from ``output/notebooks``.

    Returns the final summary.
    """
    import hashlib
    import time
    from concurrent.futures import Future, ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    import nbformat
    import papermill as pm
    from tqdm import tqdm

    if not (isinstance(jobs, int) and jobs >= 1):
        raise InputError(None, "jobs", f"jobs must be an integer >= 1, not {jobs!r}",
                         "use 1 (one notebook at a time) or the number of cores")
    src = Path(notebook_dir)
    if not src.is_dir():
        raise InputError(str(src), None, "no such notebook folder",
                         "run from the repository root or pass --notebooks")
    books = sorted(p for p in src.glob("*.ipynb") if not p.name.startswith("."))
    if not books:
        raise InputError(str(src), None, "no notebooks (*.ipynb) in this folder",
                         "pass the folder that holds the notebooks")
    out = Path(output).resolve()
    figures = out / "figures"
    records: list[dict[str, Any]] = []
    env = versions()

    def write_summary(status: str) -> dict[str, Any]:
        records.sort(key=lambda r: r["notebook"])
        summary = {"versions": env, "status": status, "notebooks": records,
                   "figures": (sorted(p.name for p in figures.glob("*"))
                               if figures.is_dir() else []),
                   "ok": status == "complete" and all(r["status"] == "ok" for r in records)}
        atomic_write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
        return summary

    def plan(book: Path) -> tuple[dict[str, Any], dict[str, Any]]:
        declared = pm.inspect_notebook(str(book))
        params: dict[str, Any] = {"output_dir": str(figures)} if "output_dir" in declared \
            else {}
        if full and "full" in declared:
            params["full"] = True
        return params, {"notebook": book.name, "parameters": params,
                        "sha256": hashlib.sha256(book.read_bytes()).hexdigest()}

    def finish(book: Path, rec: dict[str, Any], result: dict[str, Any], nb: Any,
               when: str, bar: Any) -> None:
        rec.update(result)
        executed = out / "notebooks" / book.name
        if nb is not None:
            atomic_write_text(executed, nbformat.writes(nb) + "\n")
        elif executed.is_file():
            executed.unlink()  # an earlier run's copy is not this run's result
        bar.write(f"{book.name}: {rec['status']} {when}", file=sys.stderr)
        records.append(rec)
        write_summary("running")

    write_summary("running")  # first: an earlier run's summary never outlives this one's start
    bar = tqdm(total=len(books), desc="notebooks", unit="nb", disable=not progress,
               file=sys.stderr)
    pool = None
    try:
        if jobs == 1:
            for book in books:
                bar.set_postfix_str(book.name)
                params, rec = plan(book)
                t0 = time.perf_counter()
                result, nb = _execute_one(book, params, kernel)
                finish(book, rec, result, nb, f"in {time.perf_counter() - t0:.1f} s", bar)
                bar.update()
        else:
            t0 = time.perf_counter()
            pool = ProcessPoolExecutor(min(jobs, len(books)), mp_context=get_context("spawn"))
            running: dict[Future[Any], tuple[Path, dict[str, Any]]] = {}
            for book in books:
                params, rec = plan(book)
                running[pool.submit(_execute_one, book, params, kernel)] = (book, rec)
            for fut in as_completed(running):
                book, rec = running[fut]
                result, nb = fut.result()
                finish(book, rec, result, nb,
                       f"(finished {time.perf_counter() - t0:.1f} s after the start)", bar)
                bar.update()
            pool.shutdown()
    except BaseException:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        with contextlib.suppress(Exception):  # the original interruption is what matters
            write_summary("interrupted")
        raise
    finally:
        bar.close()
    return write_summary("complete")
