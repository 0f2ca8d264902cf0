"""The SD-card image and the packages: what makes a Raspberry Pi OS card a Printbridge.

* :mod:`firmware.image.build` — ``make image``: writes a wheelhouse, the first-boot
  installer and ``printbridge.txt`` into the FAT boot partition of a Raspberry Pi OS image
  with mtools (no mounting, no root), and hooks the installer on the kernel command line.
* :mod:`firmware.image.sdcard` — MBR partition tables, mtools and debugfs access.
* :mod:`firmware.image.wheelhouse` — ``pip download`` for the target platforms.
* :mod:`firmware.image.provision` — ``printbridge provision``, run on the target.
* :mod:`firmware.image.deb` — ``make deb``.
* ``files/`` — the installer script, printbridge.txt template, udev rules, dhcpcd block.

Nothing here but :mod:`~firmware.image.provision` runs on the Pi, and the build side uses
the standard library only, so ``make image`` needs no virtualenv.
"""
