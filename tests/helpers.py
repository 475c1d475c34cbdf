"""Small builders shared by the tests: real PDF files, bad inputs, generated corpora."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[str], title: str | None = None) -> bytes:
    """A minimal but valid PDF with one Helvetica text stream per page.

    pypdf cannot write text, so the file is written by hand: catalog, page tree, one font, a
    content stream per page, an info dictionary and a correct cross-reference table.
    """
    objects: list[bytes] = []  # object n is objects[n-1]
    n_pages = len(pages)
    font_no = 3
    first_page = 4
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    for i, text in enumerate(pages):
        content_no = first_page + 2 * i + 1
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {content_no} 0 R "
            f"/Resources << /Font << /F1 {font_no} 0 R >> >> >>".encode()
        )
        lines = []
        for para in text.split("\n"):
            lines += textwrap.wrap(para, 80) or [""]
        ops = ["BT", "/F1 11 Tf", "14 TL", "50 800 Td"]
        for line in lines:
            ops.append(f"({_pdf_escape(line)}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("cp1252")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    info_no = None
    if title is not None:
        objects.append(f"<< /Title ({_pdf_escape(title)}) >>".encode("cp1252"))
        info_no = len(objects)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for no, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{no} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    trailer = f"<< /Size {len(objects) + 1} /Root 1 0 R"
    if info_no:
        trailer += f" /Info {info_no} 0 R"
    out += f"trailer\n{trailer} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def make_sparse_file(path: Path, size: int) -> None:
    """A file of ``size`` bytes written in no time (a hole, then a little text)."""
    with open(path, "wb") as fh:
        fh.truncate(size - 16)
        fh.seek(size - 16)
        fh.write(b"einde van tekst\n")
    assert os.path.getsize(path) == size


_TOPICS = [
    ("inkoop", "aanbesteding", "raamovereenkomst", "leverancier"),
    ("budget", "businesscase", "structurele financiering", "beheerkosten"),
    ("privacy", "DPIA", "persoonsgegevens", "privacy officer"),
    ("draagvlak", "bestuurder", "eigenaarschap", "ambtelijke steun"),
    ("architectuur", "Common Ground", "koppelingen", "standaarden"),
]
_PLACES = ["Noord", "Zuid", "Oost", "West", "Midden", "Haven", "Dal", "Berg", "Veen", "Meer"]


def generate_corpus(root: Path, n_docs: int, sections: int = 3, start: int = 0) -> list[str]:
    """A synthetic corpus in the contract's Markdown format; returns the document ids."""
    ids = []
    for i in range(start, start + n_docs):
        topic = _TOPICS[i % len(_TOPICS)]
        place = _PLACES[i % len(_PLACES)]
        doc_type = ("case", "lesson", "blog", "guide")[i % 4]
        rel = f"gen/{doc_type}-{i:04d}.md"
        body = [f"# {topic[0].capitalize()} in {place} {i}"]
        for s in range(sections):
            body.append(f"\n## Deel {s + 1}\n")
            body.append(
                f"Gemeente {place} {i} werkte aan {topic[0]} met een {topic[1]}. "
                f"Het team leerde dat {topic[2]} vroeg geregeld moet zijn en dat {topic[3]} "
                f"de doorslag gaf in stap {s + 1}. Dit document heeft nummer {i} en sectie {s}."
            )
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"---\ntitle: {topic[0].capitalize()} in {place} {i}\ntype: {doc_type}\n---\n"
            + "\n".join(body)
            + "\n",
            encoding="utf-8",
        )
        ids.append(rel[:-3])
    return ids


CONTRACT_KEYS = {
    "question": str,
    "language": str,
    "answer": str,
    "abstained": bool,
    "citations": list,
    "retrieved": list,
    "people": list,
    "obstacles": list,
    "phase": (str, type(None)),
    "next_steps": list,
    "timings_ms": dict,
}
CITATION_KEYS = {
    "n": int,
    "doc_id": str,
    "title": str,
    "url": (str, type(None)),
    "type": str,
    "snippet": str,
    "score": (float, int),
}
PERSON_KEYS = {
    "id": str,
    "name": str,
    "role": (str, type(None)),
    "organisation": (str, type(None)),
    "reason": str,
    "obstacles": list,
    "contact": dict,
}


def check_contract(
    answer: dict, index_doc_ids: set[str], consenting: set[str] | None = None
) -> None:
    """Assert that ``answer`` is a contract §3 object, consistent with the index it came from."""
    import re

    for key, typ in CONTRACT_KEYS.items():
        assert key in answer, f"missing key {key!r}"
        assert isinstance(answer[key], typ), f"{key!r} is {type(answer[key]).__name__}"
    assert answer["language"] in ("nl", "en")
    for c in answer["citations"]:
        for key, typ in CITATION_KEYS.items():
            assert key in c and isinstance(c[key], typ), f"citation field {key!r}: {c.get(key)!r}"
        assert not isinstance(c["score"], bool)
        assert c["doc_id"] in index_doc_ids, f"cited {c['doc_id']} is not in the index"
        assert c["type"] in ("blog", "case", "lesson", "guide")
    ns = [c["n"] for c in answer["citations"]]
    assert ns == list(range(1, len(ns) + 1)), ns
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", answer["answer"])}
    assert markers <= set(ns), f"markers {markers} without citation ({ns})"
    if not answer["abstained"]:
        assert markers, "an answer that does not abstain cites its sources"
    assert len(answer["retrieved"]) == len(set(answer["retrieved"]))
    assert set(answer["retrieved"]) <= index_doc_ids
    for p in answer["people"]:
        for key, typ in PERSON_KEYS.items():
            assert key in p and isinstance(p[key], typ), f"person field {key!r}"
        if consenting is not None:
            assert p["id"] in consenting
    assert all(isinstance(s, str) for s in answer["next_steps"] + answer["obstacles"])
    assert set(answer["timings_ms"]) >= {"retrieve", "answer", "total"}
    assert all(isinstance(v, (int, float)) for v in answer["timings_ms"].values())


def run_together(fn, times: int) -> list:
    """Call ``fn()`` from ``times`` threads at once, as concurrent requests or processes would;
    returns the results. An exception in any thread fails the caller, not just that thread."""
    import threading

    results: list = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            value = fn()
        except BaseException as exc:  # collected: a failure in a thread must fail the test
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(value)

    threads = [threading.Thread(target=run) for _ in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results
