"""Stream a large document through the spool to the emulated port.

Prints MB/s and the daemon's peak RSS (target: under 80 MB whatever the document size).
    python bench/spool_throughput.py [--size-mib 1024]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.daemon import Daemon


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pb-bench-") as tmp:
        root = Path(tmp)
        doc = root / "big.prn"
        block = bytes(range(13, 256)) * 4096  # no form feeds: one long page
        with open(doc, "wb") as fh:
            written = 0
            while written < args.size_mib << 20:
                written += fh.write(block[: (args.size_mib << 20) - written])
        daemon = Daemon(root / "state", options={"rate": "0"}, verbose=False).start()
        try:
            idle_rss = daemon.rss_kib()
            start = time.monotonic()
            job_id = daemon.print_file(doc)
            spooled = time.monotonic() - start
            daemon.wait_job(job_id, timeout=3600)
            total = time.monotonic() - start
            size_mb = written / 1e6
            print(f"document          {written / 2**20:.0f} MiB")
            print(f"spool ingest      {size_mb / spooled:8.1f} MB/s")
            print(f"spool to port     {size_mb / total:8.1f} MB/s end to end")
            print(f"daemon RSS        {idle_rss / 1024:.1f} MiB idle, "
                  f"{daemon.rss_kib() / 1024:.1f} MiB peak (target < 80 MiB)")
            same = daemon.output(job_id) == doc.read_bytes() if args.size_mib <= 64 else None
            if same is not None:
                print(f"byte-identical    {same}")
        finally:
            daemon.stop()


if __name__ == "__main__":
    main()
