"""Throwaway database servers the outage tests may stop and start: the shared servers on 5432/3306 are used
by everyone else's tests at the same time and must never go down.

PostgreSQL: initdb (as the postgres user) into a temporary directory, pg_ctl on a free port. MariaDB:
mariadb-install-db into a temporary directory, mariadbd on a free port with its own socket. Each port is held
(tests/held_port.py) from the start to remove(), so nobody else takes it while the server is down.
"""
import glob
import os
import shutil
import subprocess
import tempfile
import time

from held_port import HeldPort


def _wait_port(port, timeout=60):
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


class ThrowawayPostgres:
    """A PostgreSQL cluster of its own (trust auth, user postgres, fsync off)."""

    def __init__(self):
        self.bin = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
        self.root = tempfile.mkdtemp(prefix="outage-pg-")
        shutil.chown(self.root, "postgres")
        self.data = os.path.join(self.root, "data")
        self.held = HeldPort()
        self.port = self.held.port
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/outage"
        self._as_postgres(["initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync"])

    def _as_postgres(self, argv):
        subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(self.bin, argv[0]), *argv[1:]], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)

    def start(self):
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(["pg_ctl", "-D", self.data, "-o", options, "-l", os.path.join(self.root, "log"), "-w",
                           "start"])
        _wait_port(self.port)
        return self

    def stop(self, mode="immediate"):
        """immediate: as a crash would (no goodbye to the clients)."""
        self._as_postgres(["pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"])

    def remove(self):
        try:
            self.stop("fast")
        except subprocess.CalledProcessError:
            pass
        self.held.close()
        shutil.rmtree(self.root, ignore_errors=True)


class ThrowawayMariaDB:
    """A MariaDB server of its own (root without a password on 127.0.0.1)."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="outage-my-")
        os.chmod(self.root, 0o755)          # mariadbd runs as mysql and must reach its data directory
        self.data = os.path.join(self.root, "data")
        os.mkdir(self.data)
        shutil.chown(self.data, "mysql", "mysql")
        self.held = HeldPort()
        self.port = self.held.port
        self.url = f"mysql://root@127.0.0.1:{self.port}/outage"
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={self.data}", "--user=mysql",
                        "--auth-root-authentication-method=normal", "--skip-test-db"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180)
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["mariadbd", "--no-defaults", f"--datadir={self.data}", f"--port={self.port}",
             f"--socket={self.data}/mysqld.sock", "--bind-address=127.0.0.1", "--user=mysql", "--skip-name-resolve",
             f"--pid-file={self.data}/mysqld.pid", f"--log-error={self.data}/error.log",
             "--innodb-flush-log-at-trx-commit=2"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(self.port)
        return self

    def stop(self):
        """SIGKILL: as a crash would."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def remove(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.held.close()
        shutil.rmtree(self.root, ignore_errors=True)
