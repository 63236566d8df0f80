"""crawler/terminal.py: nothing a page wrote can drive the analyst's terminal, in text or in JSON."""

from __future__ import annotations

import json
import re

from crawler.cli.common import print_answer
from crawler.terminal import json_text, printable


def test_printable_removes_c0_c1_and_bidi_controls_and_keeps_lines_where_asked():
    page = "A\x1b]0;owned\x07B\x9b2JC\u202eD\r\x00E\tF\nG\x7f"
    assert printable(page) == "A\ufffd]0;owned\ufffdB\ufffd2JC\ufffdD\ufffd\ufffdE F G\ufffd"
    assert printable(page, multiline=True) == "A\ufffd]0;owned\ufffdB\ufffd2JC\ufffdD\ufffd\ufffdE\tF\nG\ufffd"
    assert printable("\x1b[1mX\x1b[0m\x1b[31m", styled=True) == "\x1b[1mX\x1b[0m\ufffd[31m"


def test_json_answers_are_the_same_data_with_no_raw_control_character(capsys):
    answer = {"title": "T\x9b2J\x1b[31m\u202e", "n": 1}
    for options in ({}, {"ensure_ascii": False}):
        text = json_text(answer, **options)
        assert json.loads(text) == answer
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", text)
    print_answer(False, answer, lambda: [answer["title"]])
    assert capsys.readouterr().out == "T\ufffd2J\ufffd[31m\ufffd\n"
