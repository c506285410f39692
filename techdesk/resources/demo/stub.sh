#!/bin/sh
# techdesk demo stub (docs/demo.md). The demo SSH server puts a folder of copies
# of this script first on PATH, one per command the built-in checks ask about the
# machine (df, systemctl, ss, ...). Each answers with the demo host's canned
# reply from $TECHDESK_DEMO_REPLIES/<key> (and exit code from <key>.rc), where
# <key> is the command name plus what the checks ask it. A command with no
# reply for this host behaves as if it were not installed (exit 127).
name=${0##*/}
key=$name
case $name in
  df) for a in "$@"; do [ "$a" = -i ] && key=df-i; done ;;
  ss|netstat) case ${1:-} in -*t*) key=$name-tcp ;; -*u*) key=$name-udp ;; esac ;;
  systemctl)
    key=systemctl-${1:-status}
    for a in "$@"; do [ "$a" = --state=failed ] && key=systemctl-failed; done ;;
  journalctl) for a in "$@"; do [ "$a" = -k ] && key=journalctl-kernel; done ;;
  timedatectl) key=timedatectl-${1:-status} ;;
  apt|uname|getconf) [ $# -gt 0 ] && key=$name-${1#-} ;;
  openssl|smartctl)  # the file or disk asked about, last on the line
    for a in "$@"; do key=$name-${a##*/}; done
    [ "${1:-}" = --scan ] && key=smartctl-scan ;;
esac
case $key in */*|.*) key=$name ;; esac
r=${TECHDESK_DEMO_REPLIES:-/nonexistent}
if [ -f "$r/$key" ]; then
  cat "$r/$key"
  rc=0
  [ -f "$r/$key.rc" ] && read -r rc < "$r/$key.rc"
  exit "$rc"
fi
case $name in
  uname|getconf)
    # Not about the machine's state: the real one answers.
    PATH=${TECHDESK_DEMO_PATH:-/usr/bin:/bin}; export PATH
    exec "$name" "$@" ;;
esac
echo "$name: command not found" >&2
exit 127
