import hashlib
import stat

from crawler.identity import page_id
from crawler.render.evidence import screenshot_path, store_screenshot


def test_screenshots_are_stored_per_crawl_under_the_page_id_owner_only(tmp_path):
    url = "http://example.onion/page?x=1"
    png = b"\x89PNG\r\n\x1a\n" + b"x" * 100
    path, digest = store_screenshot(tmp_path / "screenshots", "..", url, png)
    assert path == screenshot_path(tmp_path / "screenshots", "..", url)
    assert path.parent.parent == tmp_path / "screenshots" and path.parent.name == "crawl"
    assert path.name == f"{page_id(url)}.png" and path.read_bytes() == png
    assert digest == hashlib.sha256(png).hexdigest()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not list(path.parent.glob("*.tmp"))
