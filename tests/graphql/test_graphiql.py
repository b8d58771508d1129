"""GraphiQL works with no network beyond the gateway: the page a browser gets at /graphql
names no other host, and every script, style and icon it loads comes from the gateway,
unauthenticated, with the right type, the bytes the page pins, and cached for good. With
GraphiQL off, neither the page nor its assets are served. (That the editor really renders in
a browser cut off from the internet: tests/e2e/test_graphiql_offline.py.)"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import httpx
import pytest

from gateway.graphiql import ASSETS_DIR, ASSETS_PATH

BROWSER = {"Authorization": "", "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
# Tags whose src/href a browser fetches on its own while loading the page.
FETCHED = {("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src")}


@pytest.fixture
def settings_overrides():
    # Said outright: whether GraphiQL is on by default is another matter (serve's).
    return {"graphiql": True}


@dataclass
class Reference:
    tag: str
    url: str
    rel: str = ""
    integrity: str | None = None


@dataclass
class PageReader(HTMLParser):
    references: list[Reference] = field(default_factory=list)
    inline_scripts: list[str] = field(default_factory=list)
    urls_in_attributes: list[str] = field(default_factory=list)
    _in_inline_script: bool = False

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        given = {name: value or "" for name, value in attrs}
        for name, value in given.items():
            if name in ("src", "href", "action", "srcset", "poster", "data"):
                self.urls_in_attributes.append(value)
            if (tag, name) in FETCHED:
                self.references.append(
                    Reference(tag, value, given.get("rel", ""), given.get("integrity"))
                )
        self._in_inline_script = tag == "script" and "src" not in given

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script:
            self.inline_scripts.append(data)


async def graphiql_page(gql) -> tuple[httpx.Response, PageReader]:
    page = await gql.http.get("/graphql", headers=BROWSER)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    reader = PageReader()
    reader.feed(page.text)
    return page, reader


async def test_the_graphiql_page_names_no_other_host(gql):
    page, reader = await graphiql_page(gql)

    # The page loads what strawberry's does, from here: React, GraphiQL, the explorer.
    urls = [reference.url for reference in reader.references]
    assert any(url.endswith("/react.production.min.js") for url in urls)
    assert any(url.endswith("/react-dom.production.min.js") for url in urls)
    assert any(url.endswith("/graphiql.min.js") for url in urls)
    assert any(url.endswith("/graphiql.min.css") for url in urls)
    assert any("plugin-explorer" in url for url in urls)

    # Not one absolute URL anywhere: not in an attribute, not in the inline script.
    assert not re.search(r"https?://", page.text, re.IGNORECASE), re.findall(
        r".{40}https?://.{40}", page.text
    )
    for url in reader.urls_in_attributes:
        # A path on this gateway: no scheme, no protocol-relative //host.
        assert url.startswith(ASSETS_PATH + "/") and not url.startswith("//"), url
    script = "\n".join(reader.inline_scripts)
    assert "createFetcher" in script  # the real inline script was read
    # It imports nothing and fetches only where the page itself was loaded from.
    assert not re.search(r"\bimport\s*\(|\bimport\s+[\w{*]|importScripts|\bfetch\s*\(", script)
    assert "window.location.href" in script


async def test_every_asset_the_page_loads_is_served_by_the_gateway_unauthenticated(gql):
    _, reader = await graphiql_page(gql)
    expected_type = {"script": "javascript", "stylesheet": "text/css", "icon": "image/svg+xml"}

    # React, ReactDOM, GraphiQL and its CSS, the explorer and its CSS, the icon.
    assert len(reader.references) == 7
    for reference in reader.references:
        kind = "script" if reference.tag == "script" else reference.rel
        asset = await gql.http.get(reference.url, headers={"Authorization": ""})

        assert asset.status_code == 200, (reference.url, asset.status_code)
        assert expected_type[kind] in asset.headers["content-type"], (
            reference.url,
            asset.headers["content-type"],
        )
        # Versioned paths: a browser keeps each file for a year and never asks again.
        assert "immutable" in asset.headers["cache-control"]
        assert "max-age=31536000" in asset.headers["cache-control"]
        if reference.integrity is not None:
            # The browser refuses a script whose bytes differ from what the page pins.
            algorithm, pinned = reference.integrity.split("-", 1)
            digest = hashlib.new(algorithm, asset.content).digest()
            assert base64.b64encode(digest).decode() == pinned, reference.url
    assert len([r for r in reader.references if r.integrity]) == 6  # all but our own icon


async def test_the_graphiql_bundle_travels_compressed(gql):
    _, reader = await graphiql_page(gql)
    (bundle,) = [r.url for r in reader.references if r.url.endswith("/graphiql.min.js")]

    compressed = await gql.http.get(
        bundle, headers={"Authorization": "", "Accept-Encoding": "gzip"}
    )

    assert compressed.headers["content-encoding"] == "gzip"
    # 3.5 MB of JavaScript, about a quarter of it on the wire.
    assert compressed.num_bytes_downloaded < len(compressed.content) / 2


async def test_an_asset_outside_the_packaged_folder_is_not_served(gql):
    escaped = await gql.http.get(ASSETS_PATH + "/..%2F__init__.py", headers={"Authorization": ""})
    assert escaped.status_code == 404


@pytest.mark.parametrize("settings_overrides", [{"graphiql": False}])
async def test_with_graphiql_off_neither_the_page_nor_its_assets_are_served(gql):
    page = await gql.http.get("/graphql", headers=BROWSER)
    assert page.status_code == 404
    assert "graphiql" not in page.text.lower()

    packaged = [p for p in ASSETS_DIR.rglob("*") if p.is_file()]
    assert len(packaged) >= 8
    for path in packaged:
        url = f"{ASSETS_PATH}/{path.relative_to(ASSETS_DIR).as_posix()}"
        assert (await gql.http.get(url, headers={"Authorization": ""})).status_code == 404, url
