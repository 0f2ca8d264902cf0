"""``make deb`` with a prepared wheelhouse: the package's control data and contents."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_make_deb(tmp_path: Path) -> None:
    house = tmp_path / "wheels"
    house.mkdir()
    for name in ("pip-26.3-py3-none-any.whl", "printbridge-0.1.0-py3-none-any.whl"):
        (house / name).write_bytes(b"PK" + name.encode())
    out = tmp_path / "printbridge.deb"
    proc = subprocess.run(["make", "--no-print-directory", "deb", f"DEB_OUT={out}",
                           f"WHEELHOUSE={house}", f"PYTHON={sys.executable}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    fields = subprocess.run(["dpkg-deb", "--field", str(out)], capture_output=True,
                            text=True, check=True).stdout
    assert "Package: printbridge\n" in fields and "Architecture: arm64\n" in fields
    assert "Depends: python3 (>= 3.11), python3 (<< 3.12), passwd\n" in fields
    listing = subprocess.run(["dpkg-deb", "--contents", str(out)], capture_output=True,
                             text=True, check=True).stdout
    entries = {line.split()[-1].lstrip("."): line.split()[0] for line in listing.splitlines()}
    for path in ("/lib/systemd/system/printbridge.service",
                 "/lib/systemd/system/printbridge-setup.service",
                 "/lib/udev/rules.d/60-printbridge.rules",
                 "/usr/lib/modules-load.d/printbridge.conf",
                 "/usr/share/printbridge/wheelhouse/pip-26.3-py3-none-any.whl",
                 "/usr/share/printbridge/wheelhouse/printbridge-0.1.0-py3-none-any.whl"):
        assert entries.get(path) == "-rw-r--r--", path
    assert entries["/usr/share/printbridge/install.sh"] == "-rwxr-xr-x"
    assert all(" root/root " in line for line in listing.splitlines())
    control = tmp_path / "control"
    subprocess.run(["dpkg-deb", "--control", str(out), str(control)], check=True)
    postinst = (control / "postinst").read_text()
    assert "install.sh --wheelhouse /usr/share/printbridge/wheelhouse" in postinst
    assert "provision --no-system-files" in postinst
    for script in ("postinst", "prerm", "postrm"):
        assert (control / script).stat().st_mode & 0o111
        subprocess.run(["sh", "-n", str(control / script)], check=True)
