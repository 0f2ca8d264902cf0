#!/bin/sh
# Install the Debian packages a target needs, when missing and when we are root.
#   scripts/setup-system.sh run    - what `make run` needs (Python venv support)
#   scripts/setup-system.sh test   - plus every tool the test suite drives
set -eu
target=${1:-run}

packages="python3-venv python3-pip"
if [ "$target" = test ]; then
    # ipptool and its conformance suites; cupsd, lpadmin and lp as a real client; Ghostscript
    # makes the PWG raster samples the suites print.
    packages="$packages cups cups-client cups-ipp-utils cups-filters cups-bsd ghostscript"
    packages="$packages iproute2 procps"
    # The web pages are checked in a real browser.
    packages="$packages chromium"
    # net-snmp's clients walk the SNMP agent, snmptrapd receives its SNMPv3 traps, and
    # snmpd is the agent bench/snmp_walk.py compares it with.
    packages="$packages snmp snmptrapd snmpd"
    # Network bring-up and DNS-SD (tests/net): namespaces and veths (iproute2), dnsmasq as
    # the DHCP server, dhcpcd as printbridge's DHCP client, a private D-Bus and avahi-daemon
    # as the other host's mDNS stack (avahi-browse, avahi-resolve), ippfind.
    packages="$packages iproute2 dnsmasq-base dhcpcd-base dbus avahi-daemon avahi-utils"
    packages="$packages cups-ipp-utils"
    # Flash and boot: synthetic SD images without mounting (sfdisk, mkfs.vfat, mke2fs -d,
    # mtools, debugfs), .img.xz bases, `systemd-analyze verify` on the units, `make deb`;
    # `make test-image` boots the first-boot installer in systemd-nspawn on a debootstrapped
    # Debian root; `make test-image ARCH=arm64|armhf` runs an arm64 or armhf root there
    # under qemu-user-static (the test registers its binfmt_misc handlers for the run).
    packages="$packages mtools dosfstools e2fsprogs fdisk systemd xz-utils dpkg-dev"
    packages="$packages debootstrap systemd-container qemu-user-static"
    # PWG's IPP Everywhere self-certification runs libcups 3's ipptool and ippfind from
    # ../shared/tools/ipptool3: the prebuilt ones need these libraries; where they do not
    # run, the tests build them with its build.sh, which needs a compiler and headers.
    packages="$packages libssl3 libpng16-16 libavahi-client3 zlib1g"
    # An independent TLS client for the shared port (tests/test_security.py,
    # tests/test_listener.py: openssl s_client).
    packages="$packages openssl"
    ipptool3="$(dirname "$0")/../../shared/tools/ipptool3"
    if [ -d "$ipptool3" ] && ! "$ipptool3/bin/ipptool" --version >/dev/null 2>&1; then
        packages="$packages build-essential pkg-config libssl-dev zlib1g-dev"
        packages="$packages libavahi-client-dev libpng-dev"
    fi
fi

missing=""
for pkg in $packages; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $pkg"
done
# A Python from elsewhere (pyenv, a distro backport) brings its own venv and pip.
if python3 -c 'import venv, ensurepip' 2>/dev/null; then
    missing=$(echo "$missing" | tr ' ' '\n' | grep -vx -e python3-venv -e python3-pip | tr '\n' ' ')
fi
missing=$(echo $missing)
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages: $missing (run as root, or: sudo apt-get install $missing)" >&2
    exit 1
fi
echo "installing: $missing" >&2
export DEBIAN_FRONTEND=noninteractive
# The tests start their own cupsd, avahi-daemon, snmpd and snmptrapd; the host's copies
# that installing would start (cupsd, mDNS on the real interfaces, an agent on port 161)
# are not wanted.  policy-rc.d (see invoke-rc.d(8)) says "not now" while we install,
# unless the machine already has one of its own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
