#!/bin/sh
# `hiksync` inside the container image (/usr/local/bin/hiksync): the ENTRYPOINT (`hiksync run`), the HEALTHCHECK
# (`hiksync health`) and `docker exec <container> hiksync ...` all come through here, so every command runs as the
# same user and writes files with the same owner.
#
# hiksync never runs as root. Started as root (the image's default), it switches to PUID:PGID when they are set,
# else to the image's `node` user (1000:1000); it changes the owner of nothing. Started as another user
# (`docker run --user UID:GID`), it stays that user, and PUID/PGID, when set, must name that same user.
# A bad PUID/PGID is a bad setting: one line, exit 78, as for hiksync's own settings.
set -eu

app=/app/dist/lib/cli/main.js
default_id=1000

bad_setting() {
  echo "hiksync: $*" >&2
  exit 78
}

# A user or group id: digits only, not root's 0.
check_id() {
  case $2 in
    '' | *[!0-9]*) bad_setting "$1=$2 is not a numeric id: set $1 to the owner of the output folder on the NAS (e.g. PUID=1026 PGID=100; 'id <user>' shows them)" ;;
  esac
  [ "${#2}" -le 10 ] || bad_setting "$1=$2 is out of range"
  [ "$2" -ne 0 ] || bad_setting "$1=0 would run hiksync as root, which it refuses: set $1 to the owner of the output folder (e.g. PUID=1026 PGID=100)"
}

if [ -n "${PUID+set}${PGID+set}" ]; then
  [ -n "${PUID+set}" ] && [ -n "${PGID+set}" ] ||
    bad_setting "PUID and PGID go together: set both (PUID=${PUID-unset}, PGID=${PGID-unset})"
  check_id PUID "$PUID"
  check_id PGID "$PGID"
  uid=$(expr "$PUID" + 0)
  gid=$(expr "$PGID" + 0)
fi

if [ "$(id -u)" -eq 0 ]; then
  uid=${uid:-$default_id}
  gid=${gid:-$default_id}
  # Supplementary groups: those of the user's /etc/passwd entry when it has one, else none.
  if getent passwd "$uid" >/dev/null; then groups=--init-groups; else groups=--clear-groups; fi
  exec setpriv --reuid="$uid" --regid="$gid" "$groups" node "$app" "$@"
fi

if [ -n "${uid-}" ] && { [ "$uid" -ne "$(id -u)" ] || [ "$gid" -ne "$(id -g)" ]; }; then
  bad_setting "PUID=$PUID PGID=$PGID cannot take effect: the container runs as $(id -u):$(id -g) (docker run --user). Remove --user, so that hiksync starts as root and switches to PUID:PGID, or remove PUID and PGID"
fi
exec node "$app" "$@"
