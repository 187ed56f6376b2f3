#!/usr/bin/env bash
# Starts a throwaway vsftpd on 127.0.0.1 for the tillsync-transport interop test.
#
# Usage (as root):   eval "$(.ci/start-vsftpd.sh [PASSWORD])"
#   PASSWORD         password of the FTP user `ftptill` (default: tillsync-ci)
#   PORT=2121        control port (environment)
#   VSFTPD_DIR=...   working folder (default /tmp/tillsync-vsftpd): config, log, pid, user home
#
# Installs vsftpd with apt-get if missing, creates the user `ftptill` (home in
# $VSFTPD_DIR/home, login shell /bin/bash because PAM's pam_shells wants a
# real shell), writes vsftpd.conf, starts vsftpd in the background, waits
# until the port answers with a 220 banner and prints on stdout:
#   export TILLSYNC_VSFTPD_URL=ftp://127.0.0.1:2121 TILLSYNC_VSFTPD_USER=ftptill TILLSYNC_VSFTPD_PASSWORD=...
# Everything else goes to stderr. Running it again restarts vsftpd.
# Stop it with: kill "$(cat /tmp/tillsync-vsftpd/vsftpd.pid)"
set -euo pipefail

PASSWORD="${1:-tillsync-ci}"
PORT="${PORT:-2121}"
DIR="${VSFTPD_DIR:-/tmp/tillsync-vsftpd}"
FTP_USER=ftptill

log() { echo "start-vsftpd: $*" >&2; }

# Only the final export line goes to stdout (fd 3); every tool's chatter to stderr.
exec 3>&1 1>&2

if [ "$(id -u)" -ne 0 ]; then
    log "must run as root (installs a package, creates a user)"
    exit 1
fi

if [ ! -x /usr/sbin/vsftpd ]; then
    log "installing vsftpd"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq vsftpd
fi

mkdir -p "$DIR" /var/run/vsftpd/empty

# Stop a previous instance started by this script.
if [ -f "$DIR/vsftpd.pid" ]; then
    old_pid="$(cat "$DIR/vsftpd.pid")"
    if kill -0 "$old_pid" 2>/dev/null; then
        log "stopping previous vsftpd (pid $old_pid)"
        kill "$old_pid" || true
        for _ in $(seq 1 50); do kill -0 "$old_pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$DIR/vsftpd.pid"
fi

# The FTP user: a real login shell for PAM (pam_shells), a home used as chroot.
if id "$FTP_USER" >/dev/null 2>&1; then
    usermod -d "$DIR/home" -s /bin/bash "$FTP_USER"
else
    useradd -d "$DIR/home" -s /bin/bash "$FTP_USER"
fi
mkdir -p "$DIR/home"
chown "$FTP_USER:" "$DIR/home"
chmod 755 "$DIR/home"
echo "$FTP_USER:$PASSWORD" | chpasswd
grep -qx /bin/bash /etc/shells || echo /bin/bash >>/etc/shells

cat >"$DIR/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$PORT
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
pasv_enable=YES
pasv_min_port=40000
pasv_max_port=40100
pasv_address=127.0.0.1
connect_from_port_20=NO
chroot_local_user=YES
allow_writeable_chroot=YES
secure_chroot_dir=/var/run/vsftpd/empty
pam_service_name=vsftpd
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
xferlog_enable=YES
vsftpd_log_file=$DIR/vsftpd.log
dual_log_enable=YES
xferlog_file=$DIR/xferlog
EOF

log "starting vsftpd on 127.0.0.1:$PORT (config $DIR/vsftpd.conf)"
nohup /usr/sbin/vsftpd "$DIR/vsftpd.conf" >"$DIR/vsftpd.out" 2>&1 </dev/null 3>&- &
echo $! >"$DIR/vsftpd.pid"

# Wait until the port answers with the 220 banner.
ready=no
for _ in $(seq 1 100); do
    if ! kill -0 "$(cat "$DIR/vsftpd.pid")" 2>/dev/null; then
        log "vsftpd exited; output:"
        cat "$DIR/vsftpd.out" || true
        exit 1
    fi
    # In a subshell: a bare `exec` redirection would stick to this shell.
    banner="$( (exec 3<>"/dev/tcp/127.0.0.1/$PORT" && read -r -t 2 line <&3 && echo "$line") 2>/dev/null || true)"
    case "$banner" in
        220*) ready=yes; break ;;
        "") ;;
        *) log "unexpected banner: $banner" ;;
    esac
    sleep 0.1
done
if [ "$ready" != yes ]; then
    log "vsftpd did not answer on 127.0.0.1:$PORT"
    cat "$DIR/vsftpd.out" || true
    exit 1
fi
log "vsftpd is ready (pid $(cat "$DIR/vsftpd.pid"))"

printf 'export TILLSYNC_VSFTPD_URL=%q TILLSYNC_VSFTPD_USER=%q TILLSYNC_VSFTPD_PASSWORD=%q\n' \
    "ftp://127.0.0.1:$PORT" "$FTP_USER" "$PASSWORD" >&3
