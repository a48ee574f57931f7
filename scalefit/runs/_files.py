"""Reading one file of runs into a DataFrame, refusing what would be misread (private).

Text formats may be compressed (``.gz``, ``.bz2``, ``.xz``; ``.zip`` for CSV/TSV).
A damaged archive, a file that is not UTF-8 and a repeated column name (a CSV
header, a JSON key) are refused with a :class:`~scalefit._errors.ScalefitInputError`;
a CSV whose one column holds ``;``, tab or ``|`` is re-read with that
delimiter, and a note says so (``frame.attrs["scalefit_notes"]``, shown in ``Runs.notes``).
"""
from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import lzma
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pandas as pd

from .. import _validation as _v
from .._errors import ScalefitInputError

__all__ = ["read_file", "read_stream"]

#: Delimiters tried when a ``.csv`` file reads as one column, in this order.
OTHER_DELIMITERS = (";", "\t", "|")
_DECOMPRESS_ERRORS = (EOFError, lzma.LZMAError, zipfile.BadZipFile, zlib.error, gzip.BadGzipFile)


def read_file(path: Path, fmt: str) -> pd.DataFrame:
    """Read ``path`` (format ``fmt`` from :func:`scalefit._validation.check_source_path`)."""
    try:
        if fmt in ("csv", "tsv"):
            return _read_delimited(path, fmt)
        if fmt == "parquet":
            frame = pd.read_parquet(path)
            _v.check_unique_columns(list(frame.columns), repr(str(path)))
            return frame
        with _open_text(path) as fh:
            text = fh.read()
    except ImportError as exc:
        raise ImportError(
            f"reading {path.name} needs an optional dependency ({exc}); "
            "install it with: pip install 'scalefit[parquet]'"
        ) from exc
    except pd.errors.EmptyDataError:
        raise ScalefitInputError(f"{str(path)!r} is empty; it needs a header and one row per run.") from None
    except _DECOMPRESS_ERRORS as exc:
        raise ScalefitInputError(
            f"could not decompress {str(path)!r} ({type(exc).__name__}: {exc}): the file is truncated or is not "
            f"{path.suffix} data. Check it with your decompression tool, or re-create it.",
            values=[str(path)],
        ) from None
    except (NotImplementedError, RuntimeError) as exc:
        if path.suffix.lower() != ".zip":
            raise
        # zipfile: an encrypted member, or a compression method Python cannot read
        raise ScalefitInputError(
            f"could not read the zip archive {str(path)!r} ({type(exc).__name__}: {exc}): it is encrypted or uses a "
            "compression method Python cannot read. Extract the CSV and give it directly, or re-create the archive "
            "with standard (deflate) compression and no password.",
            values=[str(path)],
        ) from None
    except UnicodeDecodeError as exc:
        raise ScalefitInputError(
            f"could not read {str(path)!r} as {fmt.upper()}: byte {exc.start} is not UTF-8 ({exc.reason}); "
            "save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8).",
            values=[str(path)],
        ) from None
    except ScalefitInputError:
        raise
    except (pd.errors.ParserError, OSError, ValueError) as exc:
        raise ScalefitInputError(f"could not read {str(path)!r} as {fmt.upper()}: {exc}") from None
    return _parse_json(path, fmt, text)


def read_stream(stream: Any) -> pd.DataFrame:
    """Read a table from a text stream (standard input): JSON records or columns, JSON Lines, else CSV/TSV.

    The format is recognised from the text: ``[`` or ``{`` starts JSON (one object
    per line is JSON Lines), a header with tabs and no commas is TSV.
    """
    text = stream.read()
    if not text.strip():
        raise ScalefitInputError("standard input is empty; pipe a CSV, TSV, JSON or JSONL table into it.")
    stripped = text.lstrip()
    label = Path("<stdin>")
    if stripped.startswith("["):
        return _parse_json(label, "json", text)
    if stripped.startswith("{"):
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if len(lines) > 1 and all(ln.lstrip().startswith("{") and ln.rstrip().endswith("}") for ln in lines):
            return _parse_json(label, "jsonl", text)
        return _parse_json(label, "json", text)
    header = text.splitlines()[0]
    sep = "\t" if "\t" in header and "," not in header else ","
    names = next(csv.reader([header], delimiter=sep))
    _v.check_unique_columns(names, "the header read from standard input")
    try:
        return pd.read_csv(io.StringIO(text), sep=sep)
    except (pd.errors.ParserError, ValueError) as exc:
        raise ScalefitInputError(f"could not read standard input as {'TSV' if sep != ',' else 'CSV'}: {exc}") from None


def _read_delimited(path: Path, fmt: str) -> pd.DataFrame:
    sep = "\t" if fmt == "tsv" else ","
    header = _header(path, sep)
    notes = []
    if fmt == "csv" and len(header) == 1:
        found = next((d for d in OTHER_DELIMITERS if d in str(header[0])), None)
        if found is not None:
            sep = found
            header = _header(path, sep)
            notes.append(f"delimiter: the .csv file is {'tab' if sep == chr(9) else repr(sep)}-separated "
                         "(its header holds no comma); read with that delimiter")
    _v.check_unique_columns(header, f"the header of {str(path)!r}")
    frame = pd.read_csv(path, sep=sep)
    frame.attrs["scalefit_notes"] = notes
    lines = _record_lines(path, sep)
    if lines is not None and len(lines) == len(frame):
        frame.attrs["scalefit_lines"] = lines
    return frame


def _record_lines(path: Path, sep: str) -> list[int] | None:
    """1-based file line where each data record starts (header = line 1; quoted newlines and blank lines counted)."""
    if path.suffix.lower() == ".zip":
        return None
    try:
        with _open_text(path) as fh:
            reader = csv.reader(fh, delimiter=sep)
            starts, end = [], 0
            for record in reader:
                start, end = end + 1, reader.line_num
                if record:  # pandas skips blank lines too
                    starts.append(start)
    except (csv.Error, OSError, UnicodeDecodeError, EOFError, lzma.LZMAError, zlib.error):
        return None
    return starts[1:] if starts else None


def _header(path: Path, sep: str) -> list[str]:
    """The column names exactly as the file's first line writes them (pandas renames repeats ``loss.1``)."""
    frame = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False)
    return [str(c) for c in frame.iloc[0].tolist()] if len(frame) else []


def _no_repeated_keys(path: Path):
    def hook(pairs: list[tuple[str, Any]]) -> dict:
        keys = [k for k, _ in pairs]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ScalefitInputError(
                f"{str(path)!r} repeats the key(s) {repeated} in one object; JSON keeps only the last, so "
                "rename them so each is unique.",
                values=repeated,
            )
        return dict(pairs)

    return hook


def _parse_json(path: Path, fmt: str, text: str) -> pd.DataFrame:
    hook = _no_repeated_keys(path)
    if fmt == "jsonl":
        records, lines = [], []
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line, object_pairs_hook=hook)
            except json.JSONDecodeError as exc:
                raise ScalefitInputError(f"{str(path)!r} line {lineno} is not valid JSON: {exc.msg}.") from None
            if not isinstance(item, dict):
                raise ScalefitInputError(
                    f"{str(path)!r} line {lineno} is a JSON {type(item).__name__}; each line must be an object."
                )
            records.append(item)
            lines.append(lineno)
        frame = pd.DataFrame.from_records(records)
        frame.attrs["scalefit_lines"] = lines
        return frame
    try:
        data = json.loads(text, object_pairs_hook=hook)
    except json.JSONDecodeError as exc:
        raise ScalefitInputError(f"{str(path)!r} is not valid JSON: {exc.msg} (line {exc.lineno}).") from None
    if isinstance(data, list) and all(isinstance(d, dict) for d in data):
        return pd.DataFrame.from_records(data)
    if isinstance(data, dict) and data and all(isinstance(v, list) for v in data.values()):
        try:
            return pd.DataFrame(data)
        except ValueError as exc:
            raise ScalefitInputError(f"{str(path)!r}: columns of unequal length ({exc}).") from None
    raise ScalefitInputError(
        f"{str(path)!r} holds JSON of an unsupported shape; use records, "
        '[{"n_params": ..., "loss": ...}, ...], or columns, {"n_params": [...], ...}.'
    )


def _open_text(path: Path) -> io.TextIOBase:
    suffix = path.suffix.lower()
    if suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")  # type: ignore[return-value]
    if suffix == ".bz2":
        return bz2.open(path, "rt", encoding="utf-8")  # type: ignore[return-value]
    if suffix == ".xz":
        return lzma.open(path, "rt", encoding="utf-8")  # type: ignore[return-value]
    if suffix in (".zip", ".zst"):
        raise ScalefitInputError(f"{suffix} compression is supported for CSV/TSV only; decompress {path.name}.")
    return open(path, encoding="utf-8")  # type: ignore[return-value]
