"""Every kind of bad file gets a ReadError naming the file and the reason; nothing is expanded."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest

import corpus
from base.errors import ReadError
from base.settings import CorpusSettings
from corpus import detect_format, read, read_many
from corpus.model import Document
from tests.corpus.fuzzing import zlib_damaged

PUBMED = (
    '<?xml version="1.0"?>\n<PubmedArticleSet><PubmedArticle><MedlineCitation>'
    "<PMID>11</PMID><Article><ArticleTitle>Fine.</ArticleTitle></Article>"
    "</MedlineCitation></PubmedArticle></PubmedArticleSet>"
)
BOMB = """<?xml version="1.0"?>
<!DOCTYPE PubmedArticleSet [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article>
<ArticleTitle>&lol9;</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE PubmedArticleSet [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>2</PMID><Article>
<ArticleTitle>&xxe;</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"""
UNDECLARED = PUBMED.replace("Fine.", "&xxe;")


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


def error_for(path: Path) -> ReadError:
    with pytest.raises(ReadError) as info:
        list(read(path))
    assert str(path) in str(info.value)
    return info.value


def test_xml_bomb_is_refused(tmp_path: Path) -> None:
    assert "declares its own entities" in error_for(write(tmp_path, "bomb.xml", BOMB)).reason


def test_xxe_is_refused_and_nothing_is_read(tmp_path: Path) -> None:
    exc = error_for(write(tmp_path, "xxe.xml", XXE))
    assert "root:" not in str(exc)


def test_undeclared_entity_reference_is_an_error(tmp_path: Path) -> None:
    assert "entity" in error_for(write(tmp_path, "ref.xml", UNDECLARED)).reason


def test_truncated_xml(tmp_path: Path) -> None:
    assert "truncated" in error_for(write(tmp_path, "cut.xml", PUBMED[:-40])).reason


def test_truncated_gzip(tmp_path: Path) -> None:
    data = gzip.compress((PUBMED * 1).encode())
    assert "decompress" in error_for(write(tmp_path, "cut.xml.gz", data[: len(data) // 2])).reason


def test_empty_file(tmp_path: Path) -> None:
    assert error_for(write(tmp_path, "empty.xml", b"")).reason == "the file is empty"


def test_binary_junk(tmp_path: Path) -> None:
    junk = bytes((i * 37 + 11) % 256 for i in range(4096))
    assert "binary data" in error_for(write(tmp_path, "junk.txt", junk)).reason


def test_wrong_extension_with_unreadable_content(tmp_path: Path) -> None:
    reason = error_for(write(tmp_path, "paper.xml", "Just some words.\n")).reason
    assert "extension .xml promises" in reason


def test_wrong_extension_with_recognisable_content_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "actually-pubmed.txt", PUBMED)
    assert (detect_format(path), [d.pmid for d in read(path)]) == ("pubmed", ["11"])


def test_non_utf8_text(tmp_path: Path) -> None:
    assert "not UTF-8" in error_for(write(tmp_path, "l1.txt", "na\xefve".encode("latin-1"))).reason


def test_foreign_xml_root(tmp_path: Path) -> None:
    assert "XML root <svg>" in error_for(write(tmp_path, "pic.xml", "<svg></svg>")).reason


def test_json_is_not_jsonl(tmp_path: Path) -> None:
    assert "JSON Lines" in error_for(write(tmp_path, "gold.json", '{\n "questions": []\n}')).reason


def test_missing_file(tmp_path: Path) -> None:
    assert "cannot read" in error_for(tmp_path / "nope.pdf").reason


def test_size_limit_names_the_setting(tmp_path: Path) -> None:
    path = write(tmp_path, "big.txt", "A title here\n" + "word " * 300_000)
    with pytest.raises(ReadError, match=r"corpus\.max_file_mb"):
        list(read(path, CorpusSettings(max_file_mb=1)))


def test_bad_files_do_not_stop_good_ones(tmp_path: Path) -> None:
    write(tmp_path, "a-bomb.xml", BOMB)
    write(tmp_path, "b-good.xml", PUBMED)
    write(tmp_path, "c-junk.pdf", b"%PDF-1.4 garbage")
    docs, errors = read_many([tmp_path])
    assert ([d.pmid for d in docs], len(errors)) == (["11"], 2)


def many_records(n: int = 60) -> bytes:
    records = "".join(
        f"<PubmedArticle><MedlineCitation><PMID>{100 + i}</PMID><Article><ArticleTitle>Paper {i}"
        f"</ArticleTitle></Article></MedlineCitation></PubmedArticle>"
        for i in range(n)
    )
    return f"<PubmedArticleSet>{records}</PubmedArticleSet>".encode()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("set.xml.gz", many_records()),
        ("set.nbib.gz", b"".join(b"PMID- %d\nTI  - Paper %d\n\n" % (i, i) for i in range(1, 400))),
        ("set.jsonl.gz", b"".join(b'{"title": "Paper %d", "text": "t"}\n' % i for i in range(400))),
        (
            "paper.nxml.gz",
            b"<article><front/><body>" + b"<p>words</p>" * 2000 + b"</body></article>",
        ),
    ],
)
def test_deflate_damage_is_a_read_error(tmp_path: Path, name: str, content: bytes) -> None:
    damaged = zlib_damaged(gzip.compress(content, mtime=0))  # zlib.error inside, before 2026-12
    assert "decompress" in error_for(write(tmp_path, name, damaged)).reason


def test_any_exception_from_a_reader_becomes_a_read_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crashing(path: Path) -> Iterator[Document]:
        yield from ()
        raise KeyError("a bug below the reader")

    monkeypatch.setitem(corpus.READERS, "text", crashing)
    path = write(tmp_path, "note.txt", "A title of a note\n\nText.\n")
    exc = error_for(path)
    assert exc.reason == "cannot be read (KeyError: 'a bug below the reader')"
    assert isinstance(exc.__cause__, KeyError)


def test_read_many_keeps_the_records_before_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def one_then_recursion(path: Path) -> Iterator[Document]:
        yield next(iter(read(write(tmp_path, "ok.xml", PUBMED))))
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setitem(corpus.READERS, "jsonl", one_then_recursion)
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder, "a.jsonl", '{"title": "x"}\n')
    docs, errors = read_many([folder])
    assert [d.pmid for d in docs] == ["11"] and "nested too deeply" in errors[0].reason


def test_deeply_nested_jsonl_line_is_a_bad_line(tmp_path: Path) -> None:
    good = '{"title": "Fine", "text": "t", "metadata": {"pmid": "7"}}'
    path = write(tmp_path, "deep.jsonl", f"{good}\n{'[' * 100_000}\n")
    docs, errors = read_many([path])
    assert [d.pmid for d in docs] == ["7"] and "line 2: JSON nested too deeply" in errors[0].reason
