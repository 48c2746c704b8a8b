"""The README's "Test your own endpoint" section runs as written, and names every case the plugin has."""

import shutil

import pytest
from readme_suite import ROOT, files, section, write

import webhooklab.testing

pytest_plugins = ["pytester"]

CASES = ["send", "tampered", "wrong_secret", "unsigned", "stale(age=", "future", "replayed", "duplicate",
         "concurrent", "forgeries(effects=", "deliver", ".ok"]  # fmt: skip


def test_the_section_shows_a_conftest_a_suite_to_copy_and_single_cases():
    assert list(files()) == ["conftest.py", "test_webhooks.py", "test_one_case_at_a_time.py"]


def test_its_files_pass_against_the_app_it_names(pytester):
    """The conftest, the suite and the single cases, beside examples/flask_app/payments.py, in a fresh process."""
    shutil.copy(ROOT / "examples" / "flask_app" / "payments.py", pytester.path)
    write(pytester.path, *files())
    pytester.makeini("[pytest]\nfilterwarnings =\n    error\n")
    result = pytester.runpytest_subprocess("-p", "webhooklab.testing", "-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=8)


def test_no_fixture_hides_a_library():
    """A fixture named stripe would hide the stripe package inside the tests (stripe.Event: AttributeError)."""
    conftest = files()["conftest.py"]
    assert "def hooks(" in conftest and "def stripe(" not in conftest and "def inbox(" in conftest


@pytest.mark.parametrize("case", CASES)
def test_every_case_is_documented_in_the_section_and_the_plugins_docstring(case):
    assert case in section(), f"the README's section does not show {case}"
    assert case in webhooklab.testing.__doc__, f"webhooklab.testing's docstring does not show {case}"


def test_the_plugin_prints_no_header_line_in_other_test_runs(pytester):
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "webhooklab.testing")
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("webhooklab.testing*")  # pytest's own "plugins:" line names the package
