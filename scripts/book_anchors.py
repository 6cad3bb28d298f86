#!/usr/bin/env python3
"""mdBook renderer that fails the build on a link to a heading that does not exist.

mdbook-linkcheck checks that every linked page and file exists, not the `#fragment` after it;
this checks the fragments, in the HTML the `html` renderer has just written (renderers run in
the order of their names, and `html-anchors` comes after `html`): every `<a href>` to a page of
the book, with a fragment, must name an `id` of that page. Configured in docs/book.toml; also
runs alone as `python3 scripts/book_anchors.py docs/book/html`.
"""
import json
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# Pages mdBook derives from the chapters (the print view repeats every page's ids and links).
SKIPPED = {"print.html", "404.html", "toc.html"}


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append((attrs["href"], self.getpos()[0]))


def check(html: Path) -> list[str]:
    pages = {}
    for path in sorted(html.rglob("*.html")):
        page = Page()
        page.feed(path.read_text(encoding="utf-8"))
        pages[path.resolve()] = page
    broken = []
    for path, page in pages.items():
        if path.name in SKIPPED:
            continue
        for href, line in page.links:
            url = urlsplit(href)
            if url.scheme or url.netloc or not url.fragment:
                continue
            target = (path.parent / unquote(url.path)).resolve() if url.path else path
            if target not in pages:
                continue  # a missing page is mdbook-linkcheck's to report
            if unquote(url.fragment) not in pages[target].ids:
                where = path.relative_to(html.resolve())
                broken.append(f"{where}:{line}: no heading #{url.fragment} in {target.name} ({href})")
    return broken


def main() -> int:
    if len(sys.argv) > 1:
        html = Path(sys.argv[1])
    else:  # as an mdBook renderer: the render context on stdin, the html output beside ours
        context = json.load(sys.stdin)
        html = Path(context["destination"]).parent / "html"
    if not (html / "index.html").is_file():
        print(f"error: no book in {html}: build it with the html renderer first", file=sys.stderr)
        return 1
    broken = check(html)
    for line in broken:
        print(f"error: {line}", file=sys.stderr)
    if broken:
        print(f"{len(broken)} link(s) to a missing heading", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
