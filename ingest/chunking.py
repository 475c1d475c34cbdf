"""Heading-aware chunking with langchain-text-splitters.

Each chunk keeps its document title and heading path; the text that is embedded starts with
them, so a section called "Wat ging mis" still knows which case it belongs to.
"""

from __future__ import annotations

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from assistant.index import ChunkRecord as Chunk

from .loaders import LoadedDoc, Section

_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]

__all__ = ["Chunk", "chunk_document"]


def _sections(doc: LoadedDoc) -> list[Section]:
    if doc.pages:
        return doc.pages
    splitter = MarkdownHeaderTextSplitter(headers_to_split_on=_HEADERS, strip_headers=True)
    out = []
    for part in splitter.split_text(doc.body):
        path = [part.metadata[h] for _, h in _HEADERS if part.metadata.get(h)]
        # The H1 usually repeats the title; drop it from the path to keep headings short.
        if path and path[0].strip().lower() == doc.meta.title.strip().lower():
            path = path[1:]
        out.append(Section(text=part.page_content, heading=" > ".join(path)))
    return out


def chunk_document(doc: LoadedDoc, size: int = 1100, overlap: int = 120) -> list[Chunk]:
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=overlap, separators=["\n\n", "\n", ". ", " ", ""]
    )
    chunks: list[Chunk] = []
    # The content hash in the id means a changed document gets new chunk ids: new chunks are
    # written next to the old ones, and the old ones are deleted only after that succeeded.
    prefix = f"{doc.doc_id}#{doc.hash[:10]}"
    for section in _sections(doc):
        for piece in splitter.split_text(section.text):
            piece = piece.strip()
            if len(piece) < 3:
                continue
            n = len(chunks)
            chunks.append(
                Chunk(
                    id=f"{prefix}-{n:04d}",
                    doc_id=doc.doc_id,
                    text=piece,
                    heading=section.heading,
                    page=section.page,
                    ordinal=n,
                )
            )
    return chunks
