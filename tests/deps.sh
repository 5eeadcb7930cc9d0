# tests/deps.sh: sourced by tests/run-all and examples/demo. ust_need PKG:COMMAND...
# installs the Debian packages whose command (or file, or Perl module given
# as perl=Module) is missing when run as
# root, and otherwise says what is missing and fails.

ust_need() {
  missing=""
  for spec in "$@"; do
    pkg=${spec%%:*} probe=${spec#*:}
    case "$probe" in
      /*) [ -e "$probe" ] && continue ;;
      perl=*) perl -M"${probe#perl=}" -e 1 >/dev/null 2>&1 && continue ;;
      *) command -v "$probe" >/dev/null 2>&1 && continue ;;
    esac
    case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
  done
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" = 0 ]; then
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || return 1
    # exim4 and mailutils start no daemon here: policy-rc.d keeps them down if present
    apt-get install -y -qq --no-install-recommends $missing >/dev/null || return 1
  else
    echo "missing Debian packages:$missing" >&2
    echo "install them with: sudo apt-get install$missing  (or run this command as root)" >&2
    return 1
  fi
}

# What building needs.
UST_BUILD_DEPS="gcc:cc make:make libc6-dev:/usr/include/stdio.h skalibs-dev:/usr/include/x86_64-linux-gnu/skalibs/skalibs.h libbearssl-dev:/usr/include/bearssl.h libtls-dev:/usr/include/tls.h openssl:openssl ucspi-tcp:tcpserver"
# What the test suite needs on top.
UST_TEST_DEPS="bats:bats bats-support:/usr/lib/bats/bats-support/load.bash bats-assert:/usr/lib/bats/bats-assert/load.bash python3:python3 swaks:swaks libnet-ssleay-perl:perl=Net::SSLeay curl:curl gnutls-bin:gnutls-cli exim4-daemon-light:/usr/sbin/exim4 mailutils-imap4d:/usr/sbin/imap4d mailutils-pop3d:/usr/sbin/pop3d mandoc:mandoc valgrind:valgrind procps:pkill systemd:systemd-analyze libssl-dev:/usr/include/openssl/ssl.h stunnel4:stunnel4 haproxy:haproxy"
