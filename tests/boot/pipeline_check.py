"""Run inside a target root (``python3 pipeline_check.py SRC OUT``) with the target's own
numpy and Pillow (Debian's on armhf): every raster driver converts JPEG, PWG and URF
documents, grey and colour, and the emulator reads the result back.  One ``ok``/``FAIL``
line per case; exit status 1 if any failed.  Standard library, numpy and Pillow only,
besides the product's own code from SRC.
"""

import sys
import traceback
from pathlib import Path

sys.path.insert(0, sys.argv[1])
out = Path(sys.argv[2])

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from firmware.pipeline import DocumentSource, Pipeline  # noqa: E402
from firmware.pipeline.drivers import DRIVERS  # noqa: E402
from firmware.pipeline.readers.pwg import write_pwg  # noqa: E402
from firmware.pipeline.readers.urf import write_urf  # noqa: E402
from hal.emulator import interpreter_for  # noqa: E402

EMULATED = ("pcl5", "pcl3", "escp2", "escpos")
print(f"numpy {np.__version__} intp {np.dtype(np.intp).itemsize * 8} bits", flush=True)
rng = np.random.default_rng(1)
grey = (rng.random((700, 500)) * 255).astype(np.uint8)
rgb = (rng.random((700, 500, 3)) * 255).astype(np.uint8)
Image.fromarray(rgb, "RGB").save(out / "colour.jpg", "JPEG")
Image.fromarray(grey, "L").save(out / "grey.jpg", "JPEG")
docs = [(out / "colour.jpg", "image/jpeg"), (out / "grey.jpg", "image/jpeg"),
        (write_pwg(out / "grey.pwg", [grey], 300), "image/pwg-raster"),
        (write_pwg(out / "colour.pwg", [rgb], 300, raster_type="srgb_8"), "image/pwg-raster"),
        (write_urf(out / "grey.urf", [grey], 300), "image/urf"),
        (write_urf(out / "colour.urf", [rgb], 300, color=True), "image/urf")]
failed = 0
for name, cls in sorted(DRIVERS.items()):
    if cls({}).raster_mode(False) is None:
        continue  # sends documents as they are: nothing to convert
    for path, fmt in docs:
        try:
            data = b"".join(Pipeline(cls({})).convert([DocumentSource(path, fmt)], {}))
            pages = "-"
            if name in EMULATED:
                job = out / f"{name}-{path.name}"
                job.mkdir()
                interp = interpreter_for(name, data[:64], job, lambda new: True,
                                         {"render_dpi": "100"})
                for i in range(0, len(data), 65536):
                    interp.feed(data[i:i + 65536])
                interp.finish()
                pages = str(len(list(job.glob("page-*.png"))))
            print(f"ok {name} {path.name} {len(data)} bytes, pages {pages}", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {name} {path.name}", flush=True)
            traceback.print_exc(file=sys.stdout)
sys.exit(1 if failed else 0)
