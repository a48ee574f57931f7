"""One call run in a forked process while this one works, its result and warnings sent back (private).

:func:`scalefit.report.build_report` starts the IsoFLOP and envelope analyses this way at once, so that
they run on the second core while the fit, its bootstrap and the figures' imports run here.  The child
sends back its result pickled (:class:`_Pickler`: the results' read-only mappings included) and the
warnings it raised, which :meth:`ForkedCall.result` raises again here, in their order, at the point
where the call would have been made.  Anything that goes wrong in the child (an error, a result that
cannot be pickled, a child that died) makes :meth:`ForkedCall.result` call the function here instead,
so the outcome, errors included, is the one a call in this process gives.
"""
from __future__ import annotations

import io
import pickle
import signal
import types
from typing import Any, Callable

from ._errors import collect_warnings, warn


def _mapping_proxy(d: dict) -> types.MappingProxyType:
    return types.MappingProxyType(d)


class _Pickler(pickle.Pickler):
    """A pickler that also takes read-only mappings (``types.MappingProxyType``, which pickle refuses)."""

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is types.MappingProxyType:
            return _mapping_proxy, (dict(obj),)
        return NotImplemented


def _dumps(obj: Any) -> bytes:
    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buf.getvalue()


def _child(fn: Callable[[], Any], conn: Any) -> None:
    """In the forked process: call ``fn``, send ``(ok, value, warnings)`` (``ok`` False on any failure)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    ok, value = False, None
    with collect_warnings() as box:
        try:
            value, ok = fn(), True
        except BaseException:  # noqa: BLE001 - the parent calls fn again and gets the error itself
            pass
    raised = [(type(w), str(w), tuple(getattr(w, "options", ()))) for w in box]
    try:
        payload = _dumps((ok, value, raised))
    except Exception:  # noqa: BLE001 - a result that does not pickle: the parent computes it
        payload = _dumps((False, None, []))
    conn.send_bytes(payload)
    conn.close()


class ForkedCall:
    """``fn()`` in a forked process (when ``fork`` is True), else at :meth:`result`; see the module docstring."""

    def __init__(self, fn: Callable[[], Any], *, fork: bool) -> None:
        self.fn, self.proc, self.conn = fn, None, None
        if not fork:
            return
        import multiprocessing
        import warnings

        ctx = multiprocessing.get_context("fork")
        self.conn, child = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_child, args=(fn, child), daemon=True)
        with warnings.catch_warnings():  # Python >= 3.12 warns about forking with threads; see _report_figures
            warnings.simplefilter("ignore", DeprecationWarning)
            self.proc.start()
        child.close()

    def result(self) -> Any:
        """The call's value, its warnings raised here; the function is called here if the child failed."""
        if self.proc is None or self.conn is None:
            return self.fn()
        try:
            payload = self.conn.recv_bytes()
        except (EOFError, OSError):  # the child died before sending
            payload = None
        finally:
            self.close()
        if payload is None:
            return self.fn()
        ok, value, raised = pickle.loads(payload)
        if not ok:
            return self.fn()
        for category, message, options in raised:
            warn(message, category, options=options)
        return value

    def close(self) -> None:
        """End the child (if still running) and its pipe; safe to call twice."""
        if self.proc is not None:
            if self.proc.is_alive():
                self.proc.terminate()
            self.proc.join()
            self.proc = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None
