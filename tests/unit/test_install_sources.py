"""moka local install: deb-src entries derived from the machine's apt sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from moka_provider.local.install import is_debian_like, source_entries

DEB822 = """\
Types: deb
URIs: http://mirror.invalid/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://security.invalid/debian-security
Suites: bookworm-security
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""

EXPECTED_DEB822 = """\
Types: deb-src
URIs: http://mirror.invalid/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://security.invalid/debian-security
Suites: bookworm-security
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


@pytest.fixture
def apt(tmp_path: Path) -> Path:
    (tmp_path / "sources.list.d").mkdir()
    return tmp_path


def test_deb822_stanzas_become_deb_src(apt: Path):
    (apt / "sources.list.d" / "debian.sources").write_text(DEB822)

    deb822, one_line = source_entries(apt)

    assert deb822 == EXPECTED_DEB822
    assert one_line == "\n"


def test_deb822_source_stanzas_are_not_duplicated(apt: Path):
    text = (
        DEB822 + "\nTypes: deb-src\nURIs: http://mirror.invalid/debian\nSuites: bookworm\nComponents: main\n"
    )
    (apt / "sources.list.d" / "debian.sources").write_text(text)

    deb822, _ = source_entries(apt)

    assert deb822 == EXPECTED_DEB822
    assert deb822.count("Types: deb-src") == 2


def test_deb822_stanza_with_deb_and_deb_src_types(apt: Path):
    (apt / "sources.list.d" / "both.sources").write_text(
        "Types: deb deb-src\nURIs: http://mirror.invalid/debian\nSuites: bookworm\nComponents: main\n"
    )

    deb822, _ = source_entries(apt)

    assert (
        deb822 == "Types: deb-src\nURIs: http://mirror.invalid/debian\nSuites: bookworm\nComponents: main\n"
    )


def test_deb822_files_are_read_in_name_order_and_other_files_ignored(apt: Path):
    (apt / "sources.list.d" / "b.sources").write_text("Types: deb\nURIs: http://b.invalid/debian\n")
    (apt / "sources.list.d" / "a.sources").write_text("Types: deb\nURIs: http://a.invalid/debian\n")
    (apt / "sources.list.d" / "c.sources.disabled").write_text("Types: deb\nURIs: http://c.invalid/debian\n")

    deb822, _ = source_entries(apt)

    assert deb822 == (
        "Types: deb-src\nURIs: http://a.invalid/debian\n\nTypes: deb-src\nURIs: http://b.invalid/debian\n"
    )


def test_one_line_sources_become_deb_src(apt: Path):
    (apt / "sources.list").write_text(
        "# deb http://mirror.invalid/debian bookworm contrib\n"
        "deb http://mirror.invalid/debian bookworm main\n"
        "deb-src http://mirror.invalid/debian bookworm main\n"
        "\n"
        "  deb [arch=amd64] http://security.invalid/debian-security bookworm-security main\n"
    )

    deb822, one_line = source_entries(apt)

    assert one_line == (
        "deb-src http://mirror.invalid/debian bookworm main\n"
        "deb-src [arch=amd64] http://security.invalid/debian-security bookworm-security main\n"
    )
    assert deb822 == "\n"


def test_one_line_sources_in_sources_list_d(apt: Path):
    (apt / "sources.list").write_text("deb http://mirror.invalid/debian bookworm main\n")
    (apt / "sources.list.d" / "extra.list").write_text("deb http://extra.invalid/debian bookworm main\n")

    _, one_line = source_entries(apt)

    assert one_line.splitlines() == [
        "deb-src http://mirror.invalid/debian bookworm main",
        "deb-src http://extra.invalid/debian bookworm main",
    ]


def test_both_formats_together(apt: Path):
    (apt / "sources.list").write_text("deb http://mirror.invalid/debian bookworm main\n")
    (apt / "sources.list.d" / "debian.sources").write_text(DEB822)

    deb822, one_line = source_entries(apt)

    assert deb822 == EXPECTED_DEB822
    assert one_line == "deb-src http://mirror.invalid/debian bookworm main\n"


def test_no_sources_at_all(apt: Path):
    assert source_entries(apt) == ("\n", "\n")


def test_this_machine_is_debian_like():
    if not Path("/etc/os-release").exists():
        pytest.skip("no /etc/os-release on this machine")
    release = Path("/etc/os-release").read_text()
    if "debian" not in release.lower() and "ubuntu" not in release.lower():
        pytest.skip("not a Debian or Ubuntu machine")

    assert is_debian_like() is True
