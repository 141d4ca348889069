from __future__ import annotations

from corpus.dedup import merge_duplicates
from corpus.model import Section, build_document


def doc(text: str, **ids: str):
    return build_document(
        title=ids.pop("title", ""),
        sections=[Section("Abstract", text)],
        source_path=f"{text[:5]}.txt",
        format="text",
        **ids,
    )


def test_same_pmid_keeps_fuller_text_and_union_of_metadata() -> None:
    short = doc("snippet", pmid="1", title="The title")
    full = doc("the whole abstract text", pmid="1", doi="10.1000/x")
    (merged,) = merge_duplicates([short, full])
    assert (merged.text, merged.title, merged.doi) == (
        "the whole abstract text",
        "The title",
        "10.1000/x",
    )


def test_merged_document_remembers_the_other_file() -> None:
    (merged,) = merge_duplicates([doc("snippet", pmid="1"), doc("the whole abstract", pmid="1")])
    assert merged.other_sources == ("snipp.txt",)


def test_doi_links_a_record_without_pmid() -> None:
    (merged,) = merge_duplicates(
        [doc("abc", doi="10.1000/X"), doc("abcdef", pmid="9", doi="10.1000/x")]
    )
    assert merged.id == "pmid:9"


def test_a_third_record_joins_two_already_merged() -> None:
    docs = [doc("a", pmid="1"), doc("bb", doi="10.1000/y"), doc("ccc", pmid="1", doi="10.1000/y")]
    assert len(merge_duplicates(docs)) == 1


def test_different_pmids_sharing_a_doi_stay_apart() -> None:
    assert (
        len(
            merge_duplicates(
                [doc("a", pmid="1", doi="10.1000/z"), doc("b", pmid="2", doi="10.1000/z")]
            )
        )
        == 2
    )


def test_order_is_first_seen() -> None:
    docs = [doc("a", pmid="3"), doc("b", pmid="4"), doc("longer a", pmid="3")]
    assert [d.pmid for d in merge_duplicates(docs)] == ["3", "4"]


def test_the_same_file_twice_is_not_another_source() -> None:
    (merged,) = merge_duplicates([doc("same text", pmid="1"), doc("same text", pmid="1")])
    assert merged.other_sources == ()


def test_identical_texts_without_ids_merge_keeping_the_first_path() -> None:
    first, second = (
        build_document(title="Note", sections=[Section("Body", "Same words.")], source_path=p,
                       format="text")
        for p in ("a/note.txt", "b/copy.txt")
    )  # fmt: skip
    (merged,) = merge_duplicates([first, second])
    assert (merged.id, merged.source_path, merged.other_sources) == (
        first.id, "a/note.txt", ("b/copy.txt",))  # fmt: skip


def test_different_texts_without_ids_stay_apart() -> None:
    assert len(merge_duplicates([doc("one text"), doc("another text")])) == 2
