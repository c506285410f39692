#!/bin/sh
# techdesk demo stub (docs/demo.md). The demo SSH server puts a folder of copies
# of this script first on PATH, one per command the built-in checks ask about the
# machine (df, systemctl, ss, ...). Each answers with the demo host's canned
# reply from $TECHDESK_DEMO_REPLIES/<key> (and exit code from <key>.rc), where
# <key> is the command name plus what the checks ask it. A command with no
# reply for this host behaves as if it were not installed (exit 127).
name=${0##*/}
key=$name
r=${TECHDESK_DEMO_REPLIES:-/nonexistent}
# Fixes (docs/demo.md "Fixes"): the demo's sudo lets every login in (it reads the
# password with -S like the real one, and does not check it); `systemctl restart`
# takes the unit off the failed list; clean-temp's real `find -delete` empties the
# file server's /srv/tmp, and df then answers with the cleaned-up reply.
case $name in
  sudo)
    validate=
    while [ $# -gt 0 ]; do
      case $1 in
        -S) IFS= read -r _ ;; -v) validate=1 ;; -p) shift ;; --) shift; break ;; -*) ;; *) break ;;
      esac
      shift
    done
    [ -n "$validate" ] && exit 0
    exec "$@" ;;
  systemctl)
    if [ "${1:-}" = restart ]; then
      [ "${2:-}" = -- ] && shift
      if [ -f "$r/systemctl-failed" ]; then
        grep -v "^${2:-} " "$r/systemctl-failed" > "$r/.failed"
        mv "$r/.failed" "$r/systemctl-failed"
      fi
      exit 0
    fi ;;
  df)
    if [ -f "$r/df-cleaned" ] && [ -d "${TECHDESK_ROOT:-}/srv/tmp" ] \
        && [ -z "$(ls -A "${TECHDESK_ROOT:-}/srv/tmp")" ]; then
      case " $* " in *" -i "*) ;; *) cat "$r/df-cleaned"; exit 0 ;; esac
    fi ;;
esac
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
