from crawler.lab.special.jsgate import gate_page, index_page, js_page
from crawler.render.gate import MAX_SCANNED, js_gate_reason


def test_an_empty_body_with_scripts_is_a_gate():
    assert js_gate_reason(js_page().decode()) == "empty_body_with_scripts"
    assert js_gate_reason("<html><head><script src=app.js></script></head><body><div id=root></div></body>") == (
        "empty_body_with_scripts"
    )


def test_a_noscript_warning_on_an_almost_empty_page_is_a_gate():
    assert js_gate_reason(gate_page().decode()) == "noscript_warning"
    assert js_gate_reason("<body><noscript>Enable JS to continue</noscript><p>Loading...</p></body>") == (
        "noscript_warning"
    )


def test_pages_with_content_of_their_own_are_not_gates():
    assert js_gate_reason(index_page().decode()) is None
    prose = "<p>" + "A market listing with a long description of the goods. " * 20 + "</p>"
    assert js_gate_reason(f"<body><noscript>This site works better with JavaScript</noscript>{prose}</body>") is None
    assert js_gate_reason(f"<body><script>var x = 1;</script>{prose}</body>") is None
    assert js_gate_reason("<body><p>short page, no script</p></body>") is None


def test_empty_or_huge_input_is_not_parsed():
    assert js_gate_reason("") is None
    assert js_gate_reason("<script></script>" + " " * MAX_SCANNED) is None
