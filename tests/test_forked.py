"""A call run in a forked process (scalefit._forked): the same value, warnings and errors as a call here."""
from __future__ import annotations

import os
import sys
import types

import pytest

from scalefit._errors import ScalefitInputError, ScalefitWarning, collect_warnings, warn
from scalefit._forked import ForkedCall

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is used on Linux only")


def _where_and_warn():
    warn("said in the call", ScalefitWarning)
    return {"pid": os.getpid(), "frozen": types.MappingProxyType({"a": 1})}


def test_the_value_and_warnings_come_back_from_the_child():
    with collect_warnings() as box:
        job = ForkedCall(_where_and_warn, fork=True)
        assert [str(w) for w in box] == []  # not yet: they are raised where the result is taken
        value = job.result()
    assert value["pid"] != os.getpid()  # it ran in the child
    assert dict(value["frozen"]) == {"a": 1} and isinstance(value["frozen"], types.MappingProxyType)
    assert [(type(w), str(w)) for w in box] == [(ScalefitWarning, "said in the call")]


def test_an_error_in_the_child_is_raised_here_by_calling_again():
    calls = []

    def refuses():
        calls.append(os.getpid())
        raise ScalefitInputError("no budgets in these runs")

    job = ForkedCall(refuses, fork=True)
    with pytest.raises(ScalefitInputError, match="no budgets"):
        job.result()
    assert calls == [os.getpid()]  # the child's call is not in this process's list; this one's is


def test_a_result_that_does_not_pickle_is_computed_here():
    job = ForkedCall(lambda: (lambda: os.getpid()), fork=True)  # a lambda cannot be pickled
    assert job.result()() == os.getpid()


def test_without_fork_the_call_is_made_at_result():
    calls = []
    job = ForkedCall(lambda: calls.append(1) or 7, fork=False)
    assert calls == [] and job.result() == 7 and calls == [1]
