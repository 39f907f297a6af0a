#!/usr/bin/env bash
# Start a throwaway Dovecot on 127.0.0.1 (plain IMAP on $PORT, IMAPS on $PORT+850) with user alice/secret.
# Usage: start.sh DIR [PORT]   -> prints the PID file; stop with: dovecot -c DIR/dovecot.conf stop
# More users: append "name:{PLAIN}password::::::" lines to DIR/users (passwd-file is re-read on change).
# Extra settings (e.g. special-use mailboxes): put them in DIR/local.conf before starting.
set -eu
dir=${1:?dir}; port=${2:-10143}; sport=$((port + 850))
command -v dovecot >/dev/null || { apt-get update -qq && apt-get install -y -qq dovecot-imapd isync >/dev/null; }
mkdir -p "$dir"/{run,state,mail}
[ -f "$dir/cert.pem" ] || openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 30 2>/dev/null
grep -q '^alice:' "$dir/users" 2>/dev/null || echo 'alice:{PLAIN}secret::::::' >> "$dir/users"
chmod 644 "$dir/users"
chown -R 2000:2000 "$dir/mail"
cat > "$dir/dovecot.conf" <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
ssl = yes
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem
ssl_dh = </usr/share/dovecot/dh.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 2000
mail_location = maildir:$dir/mail/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN $dir/users
}
userdb {
  driver = static
  args = uid=2000 gid=2000 home=$dir/mail/%u
}
service imap-login {
  inet_listener imap {
    port = $port
  }
  inet_listener imaps {
    port = $sport
    ssl = yes
  }
}
!include_try $dir/local.conf
CONF
dovecot -c "$dir/dovecot.conf"
echo "$dir/run/master.pid"
