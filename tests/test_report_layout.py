"""Issue 12, the quick report: fixed margins instead of the constrained layout, plain-text log labels, sparse minor ticks.

The report's figures must still look right: nothing drawn outside the figure, no two panels
overlapping, colorbars beside their axes, and tick labels saying what matplotlib's default says.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.ticker import LogFormatterSciNotation  # noqa: E402

import scalefit  # noqa: E402
from scalefit._errors import collect_warnings  # noqa: E402
from scalefit.plots import _base  # noqa: E402
from scalefit.report import build_report  # noqa: E402


@pytest.fixture(scope="module")
def report():
    runs = scalefit.read_runs(scalefit.datasets.synthetic_path("isoflop"))
    curves = scalefit.datasets.load_synthetic_curves()
    return build_report(runs, curves=curves, bootstrap=40, n_jobs=1, progress=False)


def _drawn(f):
    with collect_warnings():
        fig = f.draw().figure_
    fig.canvas.draw()
    return fig


def test_every_report_figure_keeps_its_text_inside_and_its_panels_apart(report):
    """Fixed margins: every visible text (tick labels, axis labels, titles, legends) lies inside the figure,
    and no two axes (colorbars included) overlap."""
    assert len(report.figures) >= 9
    for f in report.figures:
        fig = _drawn(f)
        try:
            assert fig.get_layout_engine() is None, f.title  # drawn with fixed margins
            renderer = fig.canvas.get_renderer()
            width, height = fig.bbox.width, fig.bbox.height
            # what each axes draws (its tick labels within the view, axis labels, title, legend) and the figure's texts
            boxes = [(ax.get_label() or "axes", ax.get_tightbbox(renderer)) for ax in fig.axes if ax.get_visible()]
            boxes += [(t.get_text(), t.get_window_extent(renderer)) for t in fig.texts if t.get_visible() and t.get_text()]
            for what, box in boxes:
                assert box.x0 >= -1 and box.y0 >= -1 and box.x1 <= width + 1 and box.y1 <= height + 1, (f.title, what, box)
            panels = [ax.get_position() for ax in fig.axes if ax.get_visible()]
            for i, a in enumerate(panels):
                for b in panels[i + 1:]:
                    overlap_w = min(a.x1, b.x1) - max(a.x0, b.x0)
                    overlap_h = min(a.y1, b.y1) - max(a.y0, b.y0)
                    assert overlap_w <= 1e-9 or overlap_h <= 1e-9, (f.title, a, b)
        finally:
            plt.close(fig)


def test_figures_outside_the_report_keep_the_constrained_layout(report):
    display = scalefit.plots.plot_fit(report.fit)
    try:
        assert display.figure_.get_layout_engine() is not None
    finally:
        plt.close(display.figure_)


def test_fixed_layout_places_axes_and_colorbar_with_the_declared_margins(report):
    with _base.fixed_layout():
        display = scalefit.plots.plot_isoflop_profiles(report.isoflop)
    fig = display.figure_
    try:
        width, height = fig.get_size_inches()
        box = display.ax_.get_position()
        # the margins plot_isoflop_profiles declares (left, bottom, right, top) in inches
        assert box.x0 * width == pytest.approx(0.68) and box.y0 * height == pytest.approx(0.5)
        assert (1 - box.x1) * width == pytest.approx(1.25) and (1 - box.y1) * height == pytest.approx(0.28)
        cbar = display.artists_["colorbar"].ax.get_position()
        assert (cbar.x0 - box.x1) * width == pytest.approx(_base._COLORBAR_GAP)
        assert cbar.width * width == pytest.approx(_base._COLORBAR_WIDTH)
        assert (cbar.y0, cbar.y1) == pytest.approx((box.y0, box.y1))
    finally:
        plt.close(fig)
    assert not _base._FIXED_LAYOUT.get()  # the context is left as it was


def test_plain_log_labels_say_what_matplotlibs_mathtext_labels_say():
    """Same ticks labelled, same numbers: 10^21 -> '10²¹', 3x10^21 -> '3×10²¹', 10^-2 -> '10⁻²'."""
    fig, ax = plt.subplots()
    try:
        ax.set_xscale("log")
        ax.set_xlim(2e20, 5e21)  # a short axis: matplotlib labels some minor ticks too
        ax.set_yscale("log")
        ax.set_ylim(1e-3, 10)
        fig.canvas.draw()
        default = {}
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            default[name] = [t.get_text() for t in axis.get_ticklabels(which="both")]
        _base._plain_log_labels(ax)
        fig.canvas.draw()
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            plain = [t.get_text() for t in axis.get_ticklabels(which="both")]
            assert [bool(t) for t in plain] == [bool(t) for t in default[name]]  # the same ticks carry a label
            assert not any("$" in t for t in plain)
            for before, after in zip(default[name], plain):
                assert _base._plain_math(before) == after
        labels = [t.get_text() for t in ax.xaxis.get_ticklabels(which="both") if t.get_text()]
        assert "10²¹" in labels and "3×10²¹" in labels, labels
        assert "10⁻²" in [t.get_text() for t in ax.yaxis.get_ticklabels() if t.get_text()]
    finally:
        plt.close(fig)


def test_plain_math_translates_matplotlibs_log_labels():
    assert _base._plain_math(r"$\mathdefault{10^{21}}$") == "10²¹"
    assert _base._plain_math(r"$\mathdefault{3\times10^{21}}$") == "3×10²¹"
    assert _base._plain_math(r"$\mathdefault{10^{-12}}$") == "10⁻¹²"
    assert _base._plain_math(r"$\mathdefault{0.5}$") == "0.5"
    assert _base._plain_math("20M") == "20M"  # not a mathtext label: kept
    assert _base._pow10_label(1e21) == "10²¹" and _base._pow10_label(5.76e23) == "5.76×10²³"


def test_a_formatter_someone_chose_is_kept():
    from matplotlib.ticker import FuncFormatter

    fig, ax = plt.subplots()
    try:
        ax.set_xscale("log")
        mine = FuncFormatter(lambda v, _: "x")
        ax.xaxis.set_major_formatter(mine)
        _base._plain_log_labels(ax)
        assert ax.xaxis.get_major_formatter() is mine
        assert type(ax.xaxis.get_minor_formatter()) is not LogFormatterSciNotation  # the default one is replaced
    finally:
        plt.close(fig)


def test_sparse_minor_ticks_only_on_wide_log_axes_in_a_fixed_layout():
    def minor_count(span_decades: float, fixed: bool) -> int:
        fig, ax = plt.subplots()
        try:
            ax.plot([1.0, 10.0**span_decades], [1.0, 2.0])
            ax.set_xscale("log")
            ax.set_xlim(1.0, 10.0**span_decades)
            if fixed:
                with _base.fixed_layout():
                    _base._display("t", [ax], {}, {})
            else:
                _base._display("t", [ax], {}, {})
            lo, hi = ax.get_xlim()
            ticks = ax.xaxis.get_minorticklocs()
            return int(np.sum((ticks >= lo) & (ticks <= hi)))
        finally:
            plt.close(fig)

    assert minor_count(6, fixed=False) == 6 * 8  # 2..9 in each decade: matplotlib's default
    assert minor_count(6, fixed=True) == 6 * 2  # 2 and 5
    assert minor_count(2, fixed=True) == 2 * 8  # a short axis keeps every minor tick
