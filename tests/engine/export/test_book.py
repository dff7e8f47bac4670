"""The book: one self-contained HTML file and an EPUB, made from a saved story."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ElementTree
import zipfile
from html.parser import HTMLParser
from pathlib import PurePosixPath

import pytest
from PIL import Image

from engine.errors import DreamreelError, JobCancelled
from engine.export.book import export_book
from engine.export.book_html import paragraphs
from engine.export.book_style import MIN_CONTRAST, contrast, palette_from
from engine.export.story import open_story, read_story
from engine.session.core import Session
from engine.session.jobs import InlineRunner
from engine.story.schema import ChoiceDraft, SceneDraft

PICTURE = (96, 54)
HOSTILE = '<script>alert("x")</script> & <img src="https://evil.example/x.png">'


class HostileNarrator:
    """Tells scenes whose words hold markup, as a model or a mod might write them."""

    id = "hostile"
    model = "markup-v1"

    def narrate(self, request, on_token=None):
        node = request.node
        narration = (f"Scene {node} opens on the quay.\n\nThe tide says {HOSTILE} twice.\n\n"
                     f"A last line for scene {node}, with \"quotes\" & ampersands.")
        return SceneDraft(title=f"Harbour <b>{node}</b> & Co", narration=narration,
                          choices=[ChoiceDraft(label=f"Walk <i>{c}</i> from {node}",
                                               intent="explore") for c in "AB"],
                          image_prompt=f"a harbour at dusk {node}", mood="tense")


@pytest.fixture
def saved(config):
    """A four-turn story (one typed action, one step back and a second branch), saved."""
    config = config.with_changes(game={"painter": "procedural", "world": "lantern_coast"},
                                 images={"width": 128, "height": 72})
    session = Session.new(config, narrator=HostileNarrator(), runner=InlineRunner(), slot="book")
    session.wait()
    session.choose(0)
    session.wait()
    session.act("Climb the <tower> & ring the bell")
    session.wait()
    session.choose(1)
    session.wait()
    session.back()
    session.choose(0)
    session.wait()
    session.flush_saves()
    session.close()
    return config


@pytest.fixture
def story(saved):
    session = open_story(saved, "book")
    yield session
    session.close()


class Links(HTMLParser):
    """Every tag and every attribute that could fetch something."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.references: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.references += [value or "" for name, value in attrs
                            if name in ("src", "href", "srcset", "data", "poster", "action")]


def test_the_html_book_is_one_file_with_every_chapter(story, tmp_path):
    written = export_book(story, tmp_path / "out" / "tale.html", formats=("html",),
                          picture_size=PICTURE)
    assert written == [tmp_path / "out" / "tale.html"]
    page = written[0].read_text(encoding="utf-8")
    parser = Links()
    parser.feed(page)
    outside_the_story = page.replace(html.escape(HOSTILE), "")   # a URL told as words
    assert "http://" not in outside_the_story and "https://" not in outside_the_story
    assert parser.references and all(ref.startswith("data:") for ref in parser.references)
    assert not {"script", "link", "iframe", "object", "embed"} & set(parser.tags)
    assert "@import" not in page
    assert all(url.startswith(("data:", '"data:')) for url in re.findall(r"url\(([^)]{0,9})", page))
    assert parser.tags.count("img") == parser.tags.count("section") == 4
    assert page.count("@font-face") == 3

    told = read_story(story, "current")
    for scene in told.scenes:
        assert f"<h2>{html.escape(scene.title)}</h2>" in page
        for paragraph in paragraphs(scene.narration):
            assert paragraph in page
    chosen = [s for s in told.scenes[1:] if not s.typed]
    typed = [s for s in told.scenes[1:] if s.typed]
    assert chosen and typed
    for scene in chosen:
        assert f'<p class="action">You chose: {html.escape(scene.action)}</p>' in page
    assert '<p class="action">You: Climb the &lt;tower&gt; &amp; ring the bell</p>' in page
    assert page.index("A story of Wren") < page.index("Chapter One") < page.index("Chapter Two")
    assert "To be continued" in page


def test_markup_in_the_story_is_shown_as_text_never_run(story, tmp_path):
    book, epub = export_book(story, tmp_path / "tale.html", picture_size=PICTURE)
    page = book.read_text(encoding="utf-8")
    parser = Links()
    parser.feed(page)
    assert "script" not in parser.tags and "b" not in parser.tags and "i" not in parser.tags
    assert html.escape(HOSTILE) in page and "<script>" not in page
    assert "Harbour &lt;b&gt;" in page
    with zipfile.ZipFile(epub) as archive:
        chapter = archive.read("EPUB/chapter-002.xhtml").decode("utf-8")
    root = ElementTree.fromstring(chapter)
    tags = {element.tag.rsplit("}", 1)[-1] for element in root.iter()}
    assert not {"script", "b", "i"} & tags
    assert HOSTILE in "".join(root.itertext())


def test_the_epub_passes_a_structural_check(story, tmp_path):
    written = export_book(story, tmp_path / "tale.html", formats=("epub",), picture_size=PICTURE)
    assert written == [tmp_path / "tale.epub"] and not (tmp_path / "tale.html").exists()
    with zipfile.ZipFile(written[0]) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert archive.read("mimetype") == b"application/epub+zip"
        container = ElementTree.fromstring(archive.read("META-INF/container.xml"))
        rootfile = container.find(".//{urn:oasis:names:tc:opendocument:xmlns:container}rootfile")
        opf_path = rootfile.get("full-path")
        opf = ElementTree.fromstring(archive.read(opf_path))
        ns = {"opf": "http://www.idpf.org/2007/opf"}
        base = PurePosixPath(opf_path).parent
        items = opf.findall("opf:manifest/opf:item", ns)
        listed = {str(base / item.get("href")) for item in items}
        names = set(archive.namelist())
        assert listed == names - {"mimetype", "META-INF/container.xml", opf_path}
        ids = {item.get("id"): item for item in items}
        cover = [item for item in items if "cover-image" in (item.get("properties") or "")]
        assert len(cover) == 1 and cover[0].get("media-type") == "image/jpeg"
        assert any("nav" in (item.get("properties") or "") for item in items)
        spine = [ref.get("idref") for ref in opf.findall("opf:spine/opf:itemref", ns)]
        assert all(idref in ids for idref in spine)
        chapters = [ids[idref].get("href") for idref in spine if idref.startswith("chapter-")]
        assert len(chapters) == 4
        for href in chapters:
            document = ElementTree.fromstring(archive.read(str(base / href)))  # well-formed
            for image in document.iter("{http://www.w3.org/1999/xhtml}img"):
                assert str(base / image.get("src")) in names
        with Image.open(archive.open(str(base / cover[0].get("href")))) as picture:
            assert picture.format == "JPEG" and picture.size == PICTURE


def test_cancelling_leaves_no_file_and_keeps_an_older_book(story, tmp_path):
    folder = tmp_path / "books"
    folder.mkdir()
    older = folder / "tale.html"
    older.write_text("an older book")

    def cancel_at(word):
        def progress(fraction, what):
            if word in what:
                raise JobCancelled()
        return progress

    for word in ("Chapter 2", "Binding"):
        with pytest.raises(JobCancelled):
            export_book(story, older, picture_size=PICTURE, on_progress=cancel_at(word))
        assert [path.name for path in folder.iterdir()] == ["tale.html"]
        assert older.read_text() == "an older book"


def test_progress_rises_to_done_and_the_all_path_names_its_branches(story, tmp_path):
    seen: list[float] = []
    export_book(story, tmp_path / "all.html", path="all", formats=("html",), picture_size=PICTURE,
                picture_format="webp", on_progress=lambda fraction, what: seen.append(fraction))
    assert seen == sorted(seen) and seen[-1] == 1.0
    page = (tmp_path / "all.html").read_text(encoding="utf-8")
    assert page.count("data:image/webp;base64,") == 5
    assert "Back at \u201cHarbour &lt;b&gt;" in page     # the branch from an earlier scene


def test_bad_arguments_are_refused_before_anything_is_written(story, tmp_path):
    for options in ({"formats": ("pdf",)}, {"formats": ()}, {"picture_format": "bmp"},
                    {"picture_size": (4, 4)}):
        with pytest.raises(DreamreelError):
            export_book(story, tmp_path / "tale.html", **options)
    assert list(tmp_path.iterdir()) == [tmp_path / "saves"]


def test_the_palette_comes_from_the_picture_and_stays_readable():
    red = Image.new("RGB", (64, 36), (200, 40, 30))
    red.paste((20, 20, 24), (0, 0, 64, 18))
    palette = palette_from(red)
    accent = tuple(int(palette.accent[i:i + 2], 16) for i in (1, 3, 5))
    paper = tuple(int(palette.paper[i:i + 2], 16) for i in (1, 3, 5))
    assert accent[0] > accent[1] + 40 and accent[0] > accent[2] + 40   # red stays red
    assert contrast(accent, paper) >= MIN_CONTRAST
    pale = palette_from(Image.new("RGB", (64, 36), (250, 250, 240)))
    pale_accent = tuple(int(pale.accent[i:i + 2], 16) for i in (1, 3, 5))
    assert contrast(pale_accent, paper) >= MIN_CONTRAST - 0.3
