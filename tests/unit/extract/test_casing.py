"""lower_same_length: indexes kept, and the remembered page never answers for another text."""

from __future__ import annotations

from pipelines.extract.casing import lower_same_length


def test_lengths_kept() -> None:
    assert lower_same_length("ABC İx") == "abc İx"  # "İ".lower() has two characters: left as it is
    assert lower_same_length("Straße ÀÉ") == "straße àé"


def test_remembered_text_answers_only_for_itself() -> None:
    page = "Vendor: GreenLeaf İ " * 400  # long enough to be remembered
    lowered = lower_same_length(page)
    assert lowered == "vendor: greenleaf İ " * 400 and len(lowered) == len(page)
    assert lower_same_length(page) is lowered  # the same page again: not lowered again
    other = "".join(["VENDOR: DRWHITE ", page[16:]])  # same length, different text
    assert lower_same_length(other) == "vendor: drwhite " + lowered[16:]
    assert lower_same_length("SHORT") == "short" and lower_same_length(other).startswith("vendor: drwhite")
    equal_copy = "".join([page[:10], page[10:]])  # equal but not the same object: lowered afresh, same result
    assert equal_copy is not page and lower_same_length(equal_copy) == lowered
