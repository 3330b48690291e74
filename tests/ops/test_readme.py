"""The README as an operator reads it: its configuration table names every setting the code
reads, and it links nothing outside the repository."""

from __future__ import annotations

import ast
import re
from urllib.parse import urlsplit

from tests.helpers import ROOT

README = (ROOT / "README.md").read_text()
# Hosts a reader may be shown: their own machine, and the documentation-only names.
EXAMPLE_HOSTS = re.compile(
    r"^(localhost|127\.0\.0\.1|\[::1\]|(.+\.)?example(\.(com|org|net))?|(.+\.)?example\.\w+)$"
)


def _configuration_table() -> str:
    section = README.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert rows, "no table in the README's Configuration section"
    return "\n".join(rows)


def settings_read() -> set[str]:
    """Every variable name settings.py reads: an upper-case string literal given as the first
    argument of a call (`get("RDS_HOST")`, `number("RDS_PORT", int, 5432)`, ...)."""
    tree = ast.parse((ROOT / "cloudstore" / "settings.py").read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
        and re.fullmatch(r"[A-Z][A-Z0-9_]{2,}", node.args[0].value)
    }


def test_the_configuration_table_names_every_setting_the_code_reads():
    read = settings_read()
    assert {"RDS_HOST", "DYNAMODB_MODE", "LOGIN_LIMIT", "LOG_LEVEL"} <= read
    table = _configuration_table()
    named = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    assert read - named == set(), f"missing from the README's configuration table: {read - named}"


def test_the_readme_has_no_http_links_outside_examples_and_this_machine():
    outside = [
        url
        for url in re.findall(r"https?://[^\s)`\"'<>|]+", README)
        if not EXAMPLE_HOSTS.match(urlsplit(url).hostname or "")
    ]
    assert outside == []


def test_the_readme_links_only_files_of_this_repository():
    for target in re.findall(r"\]\(([^)\s]+)\)", README):
        if target.startswith(("http://", "https://", "#")):
            continue  # checked above, or an anchor
        path = (ROOT / target.split("#", 1)[0]).resolve()
        assert path.is_relative_to(ROOT), f"links outside the repository: {target}"
        assert path.exists(), f"links a missing file: {target}"
