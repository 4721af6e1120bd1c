"""Validation patterns anchor at the very end of the text: ``$`` also
matches before a final newline, so ``"alias\\n"`` would pass a ``^...$``
check."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
PATTERN = re.compile(r"re\.compile\(\s*r?\"([^\"]*)\"")


def test_no_validation_pattern_ends_with_a_dollar():
    offenders = []
    for path in [
        *ROOT.glob("core/*.py"),
        *ROOT.glob("models/*.py"),
        *ROOT.glob("*.py"),
    ]:
        for match in PATTERN.finditer(path.read_text(encoding="utf-8")):
            if match.group(1).endswith("$"):
                offenders.append(f"{path.relative_to(ROOT)}: {match.group(1)}")
    assert not offenders, offenders


def test_trailing_newlines_are_refused_where_text_is_validated():
    from core.routing import check_route
    from core.sync import IDEMPOTENCY_KEY_RE

    assert check_route("partner/rest\n")
    assert not IDEMPOTENCY_KEY_RE.match("key\n")
