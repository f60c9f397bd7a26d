"""The test set-up itself: hypothesis profiles (CI derandomized, local random) and the rule
that every test reading ../shared/data is marked ``data``."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from tests import conftest
from tests.conftest import SHARED_DATA, shared_path


def test_the_ci_profile_is_derandomized_without_database_or_deadline():
    ci = settings.get_profile("ci")
    assert (ci.derandomize, ci.database, ci.deadline, ci.print_blob) == (True, None, None, True)
    assert settings.get_profile("dev").derandomize is False


def test_the_profile_in_use_follows_the_environment():
    chosen = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
    assert settings.default.derandomize is settings.get_profile(chosen).derandomize
    assert settings.default.database == settings.get_profile(chosen).database


def test_shared_path_refuses_a_test_without_the_data_marker():
    with pytest.raises(pytest.fail.Exception, match="is not marked @pytest.mark.data"):
        shared_path("clevr")


@pytest.mark.data
def test_shared_path_serves_a_test_with_the_data_marker():
    assert shared_path() == SHARED_DATA


def test_opening_a_shared_file_without_the_marker_is_seen():
    missing = SHARED_DATA / "no-such-file-for-the-marker-check.json"
    with pytest.raises(OSError):
        missing.open()  # the audit event comes before the file is looked for
    seen, conftest._running["opened"] = conftest._running["opened"], []  # not this test's failure
    assert seen == [os.path.abspath(missing)]
