"""The index as a LangChain retriever, so it plugs into LangChain chains."""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.retrieve.hybrid import Filters, Retriever


class LitragRetriever(BaseRetriever):
    """Hybrid litrag search behind LangChain's ``BaseRetriever`` interface.

    Each hit becomes a LangChain ``Document`` whose ``page_content`` is the passage and whose
    metadata carries the paper (doc_id, PMID, DOI, title, ...) and the fusion scores.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Retriever
    k: int = 10
    filters: Filters | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        hits = self.retriever.search(query, k=self.k, filters=self.filters)
        return [
            LCDocument(
                page_content=h.chunk.text,
                metadata={
                    "rank": h.rank,
                    "score": h.score,
                    "doc_id": h.doc_id,
                    "pmid": h.chunk.pmid,
                    "pmcid": h.chunk.pmcid,
                    "doi": h.chunk.doi,
                    "title": h.chunk.title,
                    "journal": h.chunk.journal,
                    "year": h.chunk.year,
                    "section": h.chunk.section,
                    "start": h.chunk.start,
                    "end": h.chunk.end,
                    "dense_rank": h.dense_rank,
                    "sparse_rank": h.sparse_rank,
                },
            )
            for h in hits
        ]
