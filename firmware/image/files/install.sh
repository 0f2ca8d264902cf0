#!/bin/sh
# Printbridge installer: /opt/printbridge from a bundled wheelhouse, without network.
#
# On the SD card it is printbridge/firstboot.sh on the boot partition, started once by
# systemd from the kernel command line (cmdline.txt), the mechanism Raspberry Pi Imager
# uses (systemd-run-generator(8)):
#   systemd.run=/boot/firmware/printbridge/firstboot.sh systemd.run_success_action=reboot
#   systemd.run_failure_action=reboot systemd.unit=kernel-command-line.target
# It logs to printbridge/firstboot.log next to itself (readable from any PC), takes those
# arguments out of cmdline.txt when it ends (also on failure, so a broken install cannot
# repeat at every boot; a power cut mid-install leaves them, and the next boot retries),
# and systemd then reboots into the installed system.
#
# The .deb runs it from its postinst with --wheelhouse /usr/share/printbridge/wheelhouse.
#
#   install.sh [--first-boot] [--wheelhouse DIR] [--boot DIR] [--prefix DIR] [--no-provision]
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# Called as firstboot.sh (the kernel command line cannot pass arguments): first-boot mode.
FIRST_BOOT=no
[ "$(basename "$0")" = firstboot.sh ] && FIRST_BOOT=yes
WHEELHOUSE=$HERE/wheelhouse
BOOT=
PREFIX=${PRINTBRIDGE_PREFIX:-/opt/printbridge}
PROVISION=yes
PYTHON=${PRINTBRIDGE_PYTHON:-python3}
while [ $# -gt 0 ]; do
    case $1 in
        --first-boot) FIRST_BOOT=yes ;;
        --wheelhouse) WHEELHOUSE=$2; shift ;;
        --boot) BOOT=$2; shift ;;
        --prefix) PREFIX=$2; shift ;;
        --no-provision) PROVISION=no ;;
        *) echo "install.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

remove_hook() {
    # cmdline.txt must stay ONE line: delete our arguments in place, nothing else.
    [ -f "$BOOT/cmdline.txt" ] || return 0
    sed -i -e 's/[[:space:]]*systemd\.run=[^[:space:]]*//g' \
           -e 's/[[:space:]]*systemd\.run_success_action=[^[:space:]]*//g' \
           -e 's/[[:space:]]*systemd\.run_failure_action=[^[:space:]]*//g' \
           -e 's/[[:space:]]*systemd\.unit=kernel-command-line\.target//g' \
           "$BOOT/cmdline.txt"
    sync
}

if [ "$FIRST_BOOT" = yes ]; then
    [ -n "$BOOT" ] || BOOT=$(dirname "$HERE")
    exec >>"$HERE/firstboot.log" 2>&1
    trap remove_hook EXIT
fi
echo "== printbridge install $(date -u '+%Y-%m-%d %H:%M:%S') from $WHEELHOUSE into $PREFIX"

fail() {
    echo "FAILED: $*"
    [ -f "$WHEELHOUSE/MANIFEST.txt" ] && { echo "-- wheelhouse manifest:"; cat "$WHEELHOUSE/MANIFEST.txt"; }
    exit 1
}

command -v "$PYTHON" >/dev/null || fail "no $PYTHON on this system"
"$PYTHON" -c 'import sys, platform; print("python", sys.version.split()[0], platform.machine())'

# Debian packages standing in for wheels the package index lacks for this architecture
# (32-bit Raspberry Pi OS: python3-cryptography, python3-pil, python3-numpy,
# python3-libgpiod): make image resolved them against this card and put exactly what it
# lacks in ../debs/<dpkg architecture>/.  dpkg installs them offline.
DEBS=$(dirname "$WHEELHOUSE")/debs
DEB_ARCH=$(dpkg --print-architecture 2>/dev/null || true)
if [ -n "$DEB_ARCH" ] && ls "$DEBS/$DEB_ARCH"/*.deb >/dev/null 2>&1; then
    echo "-- installing Debian packages from $DEBS/$DEB_ARCH"
    DEBIAN_FRONTEND=noninteractive dpkg --install --skip-same-version "$DEBS/$DEB_ARCH"/*.deb \
        || fail "dpkg could not install the packages in $DEBS/$DEB_ARCH"
fi

# A venv without pip (Debian keeps ensurepip in python3-venv, which a Lite image may lack);
# pip itself runs from its wheel.  System site packages are visible so a Debian package
# (python3-numpy ...) can stand in for a dependency that has no wheel for this platform.
if [ ! -x "$PREFIX/bin/python" ]; then
    "$PYTHON" -m venv --without-pip --system-site-packages "$PREFIX" || fail "cannot create $PREFIX"
fi
PIP_WHEEL=$(ls "$WHEELHOUSE"/pip-*.whl 2>/dev/null | sort -V | tail -n 1)
[ -n "$PIP_WHEEL" ] || fail "no pip wheel in $WHEELHOUSE"
pip_install() {
    PIP_CONFIG_FILE=/dev/null "$PREFIX/bin/python" "$PIP_WHEEL/pip" install --no-index \
        --find-links "$WHEELHOUSE" --no-cache-dir --disable-pip-version-check \
        --no-warn-script-location --upgrade "$@"
}
# What make image planned for this architecture (MANIFEST.txt's "install" line: the board
# extra, gpiod for the status LED and button, only where its wheels are there; elsewhere
# Debian's python3-libgpiod serves, which pip cannot see).  A wheelhouse without the line:
# try the extra, then without.
SPEC=$(sed -n "s/^install $DEB_ARCH //p" "$WHEELHOUSE/MANIFEST.txt" 2>/dev/null | head -n 1)
if [ -n "$SPEC" ]; then
    echo "-- installing $SPEC"
    pip_install "$SPEC" || fail "pip could not install $SPEC from $WHEELHOUSE"
elif ! pip_install "printbridge[board]"; then
    echo "-- retrying without the board extra (no status LED or button)"
    pip_install printbridge || fail "pip could not install printbridge from $WHEELHOUSE"
fi
"$PREFIX/bin/printbridge" --version || fail "printbridge does not run"

if [ "$PROVISION" = yes ]; then
    set -- provision
    [ -n "$BOOT" ] && set -- "$@" --boot "$BOOT"
    [ "$FIRST_BOOT" = yes ] && set -- "$@" --first-boot
    "$PREFIX/bin/printbridge" "$@" || fail "provision failed"
fi
echo "== printbridge installed"
exit 0
