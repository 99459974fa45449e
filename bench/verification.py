"""Assisted verification: accuracy on a labelled set and time per document beside plain pypdf.

Builds N labelled documents with `security.verification.samples` (labels in turn: good,
wrong_name, old, wrong_type, unreadable; profiles in DE/GB/US/FR; register extracts, tax
registrations, certificates, utility bills, bank statements, licences, quotations and scans, in
the country's language and date formats), runs `assess()` on each and counts a prediction as
"pass" when the band is Likely (≥ 80), against each document's `expected_pass` (True only for
good). Then times, per PDF document (scans as PNG/JPEG have no pypdf reference), `assess()` and
plain pypdf text extraction of the same bytes (`PdfReader` + `extract_text()` of every page),
interleaved, best of three each, and prints the medians:

    BENCH verification_accuracy value=<share> reference=1.00 ratio=<share> target=>=0.9
    BENCH verification_median_ms value=<assess>ms reference=<pypdf>ms ratio=<assess/pypdf> target=<=3

No database: the engine works on bytes and a `ProfileFacts` dataclass. The OCR engine is not
used (scans are "unreadable" without it), so the figures do not depend on what is installed.

    python bench/verification.py [--rows N] [--quick]      (QUICK=1 in the environment = --quick)
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import bench_line, info, parse_args  # noqa: E402

DEFAULT_ROWS = 500
QUICK_ROWS = 50
TODAY = date(2025, 3, 5)
ACCURACY_TARGET = 0.9
TIME_TARGET = 3.0
REPEATS = 3


def _plain_pypdf(data: bytes) -> list[str]:
    from pypdf import PdfReader  # noqa: PLC0415

    reader = PdfReader(io.BytesIO(data))
    return [page.extract_text() for page in reader.pages]


def _best(function, *args, **kwargs) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        function(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if os.environ.get("QUICK") == "1" and "--quick" not in argv:
        argv.append("--quick")
    args = parse_args(__doc__.splitlines()[0], default_rows=DEFAULT_ROWS, quick_rows=QUICK_ROWS, argv=argv)

    # Scans stay unread whatever the machine has installed: no tesseract on this process's PATH.
    os.environ["PATH"] = os.pathsep.join(
        p for p in os.environ.get("PATH", "").split(os.pathsep) if not (Path(p) / "tesseract").exists()
    )
    from security.verification.assist.scoring import assess  # noqa: PLC0415
    from security.verification.samples.documents import labelled_set  # noqa: PLC0415

    start = time.perf_counter()
    documents = labelled_set(args.rows, today=TODAY)
    info(f"built {len(documents)} labelled documents in {time.perf_counter() - start:.1f}s")

    def run(document):
        return assess(
            data=document.data,
            file_type=document.file_type,
            declared_type=document.declared_type,
            check_kind=document.check_kind,
            profile=document.profile,
            today=TODAY,
        )

    # Warm-up: imports and compiled patterns are not part of a document's time.
    run(documents[0])
    _plain_pypdf(next(d.data for d in documents if d.file_type == "pdf"))

    correct = 0
    by_label: Counter[str] = Counter()
    right_by_label: Counter[str] = Counter()
    bands: Counter[tuple[str, str]] = Counter()
    assess_times: list[float] = []
    pypdf_times: list[float] = []
    for index, document in enumerate(documents):
        result = run(document)
        predicted = result.passes
        by_label[document.label] += 1
        bands[(document.label, str(result.band))] += 1
        if predicted == document.expected_pass:
            correct += 1
            right_by_label[document.label] += 1
        if document.file_type == "pdf":
            # Alternate which goes first so neither always finds the caches warm.
            if index % 2:
                pypdf_times.append(_best(_plain_pypdf, document.data))
                assess_times.append(_best(run, document))
            else:
                assess_times.append(_best(run, document))
                pypdf_times.append(_best(_plain_pypdf, document.data))

    for label in by_label:
        spread = ", ".join(f"{band} {n}" for (lab, band), n in sorted(bands.items()) if lab == label)
        info(f"{label}: {right_by_label[label]}/{by_label[label]} right ({spread})")
    accuracy = correct / len(documents)
    assess_ms = statistics.median(assess_times) * 1000 if assess_times else 0.0
    pypdf_ms = statistics.median(pypdf_times) * 1000 if pypdf_times else 0.0
    info(f"timed {len(assess_times)} PDF documents, best of {REPEATS} each")

    bench_line("verification_accuracy", accuracy, "", 1.0, "", accuracy, ">=", ACCURACY_TARGET)
    bench_line(
        "verification_median_ms",
        assess_ms,
        "ms",
        pypdf_ms,
        "ms",
        assess_ms / pypdf_ms if pypdf_ms else float("inf"),
        "<=",
        TIME_TARGET,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
