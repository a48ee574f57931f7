"""Safe output: every file scalefit writes goes through :func:`write_text`.

A file is written to a temporary file in the same folder and renamed into
place, so a run killed or failing mid-write leaves the previous file whole.
Whether the destination exists is decided at the rename itself (a hard link
that fails when the name is taken), not only before the work starts, so a file
created at the path while a long run works is never replaced unless asked.
A symbolic link at the destination is refused unless replacing is allowed, and
then the link itself is replaced, never the file it points to.

What scalefit writes carries a marker (:data:`MARKER_KEY` in JSON, a
``<meta name="generator">`` tag in HTML), so a caller that may replace only
its own earlier output (``scalefit demo``) checks the marker, not a guess from
the content.
"""
from __future__ import annotations

import errno
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Literal

from ._errors import Option, ScalefitInputError

__all__ = ["OutputExistsError", "MARKER_KEY", "marker", "html_marker", "written_by_scalefit", "write_text"]

#: Key that names scalefit and its version in every JSON object it writes to a file.
MARKER_KEY = "written_by"
_HTML_MARKER = re.compile(r"""<meta\s+name=["']generator["']\s+content=["']scalefit[ "']""", re.IGNORECASE)

Replace = Literal["never", "ours", "any"]


class OutputExistsError(ScalefitInputError, FileExistsError):
    """The output path is taken (by a file, a link or a folder) and may not be replaced."""


def marker() -> str:
    """``"scalefit <version>"``: the value of :data:`MARKER_KEY` and of the HTML generator tag."""
    from . import __version__

    return f"scalefit {__version__}"


def html_marker() -> str:
    """The ``<meta>`` tag that marks an HTML file as written by scalefit."""
    return f'<meta name="generator" content="{marker()}">'


def written_by_scalefit(path: str | os.PathLike) -> bool:
    """True when ``path`` is a regular file (not a link) that carries scalefit's marker."""
    p = Path(path)
    if p.is_symlink() or not p.is_file():
        return False
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if _HTML_MARKER.search(text[:4096]):
        return True
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and str(data.get(MARKER_KEY, "")).startswith("scalefit ")


def _refuse(path: Path, why: str, option: str) -> OutputExistsError:
    return OutputExistsError(
        f"{path} {why}; pass {option}=True to replace it, or choose another path.",
        option=option,
        values=[str(path)],
        options=[Option(option, "True")],
    )


def write_text(path: str | os.PathLike, text: str, *, replace: Replace = "never", option: str = "overwrite") -> Path:
    """Write ``text`` to ``path`` atomically (temporary file in the same folder, then rename).

    Parameters
    ----------
    path : path
        Destination; its folder must exist.
    text : str
        Content, written as UTF-8.
    replace : {"never", "ours", "any"}
        Whether an existing destination may be replaced: never (checked at the
        rename, so a file created meanwhile is kept), only a regular file
        scalefit wrote (:func:`written_by_scalefit`), or anything (a link is
        then replaced itself; its target is not touched).
    option : str
        The caller's option that allows replacing, named in the error.

    Returns
    -------
    Path

    Raises
    ------
    OutputExistsError
        The destination exists (or is a link) and ``replace`` forbids replacing it.
    ScalefitInputError
        The destination is a folder or its folder does not exist.
    """
    dest = Path(path)
    if dest.is_dir() and not dest.is_symlink():
        raise ScalefitInputError(f"{dest} is a folder; give a file path such as {dest / 'out.json'}.", values=[str(dest)])
    folder = dest.parent
    if not folder.is_dir():
        raise ScalefitInputError(f"the folder {folder} of {dest} does not exist; create it first or choose another path.",
                                 values=[str(dest)])
    if dest.is_symlink() and replace != "any":
        raise _refuse(dest, f"is a symbolic link (to {os.readlink(dest)}); scalefit does not write through links", option)
    if replace == "ours" and os.path.lexists(dest) and not written_by_scalefit(dest):
        raise _refuse(dest, "exists and was not written by scalefit", option)
    if replace == "never" and os.path.lexists(dest):  # early, so no temporary file is written in vain
        raise _refuse(dest, "exists", option)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        if replace == "never":
            _link_new(tmp, dest, option)
        else:
            os.replace(tmp, dest)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    return dest


def _link_new(tmp: str, dest: Path, option: str) -> None:
    """Give ``tmp`` the name ``dest`` only if that name is free at this moment."""
    try:
        os.link(tmp, dest)  # atomic: fails when dest exists, whatever it is
    except FileExistsError:
        raise _refuse(dest, "exists (it appeared while scalefit worked)", option) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        # a file system without hard links: check as late as possible, then rename
        if os.path.lexists(dest):
            raise _refuse(dest, "exists (it appeared while scalefit worked)", option) from None
        os.replace(tmp, dest)


def write_json(path: str | os.PathLike, obj: dict, *, replace: Replace = "never", option: str = "overwrite") -> Path:
    """Write ``obj`` as JSON through :func:`write_text`, with :data:`MARKER_KEY` first."""
    from ._json import jsonable

    marked = {MARKER_KEY: marker(), **{k: v for k, v in obj.items() if k != MARKER_KEY}}
    return write_text(path, json.dumps(jsonable(marked), indent=2) + "\n", replace=replace, option=option)
