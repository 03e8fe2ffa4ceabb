"""A running ``novakeys serve`` and its test controls (standard library only)."""

import datetime
import json
import os
import queue
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

#: The listeners the plugin opens, each on a free loopback port.
FRONTS = ("compute", "identity", "alibaba", "tencent", "twcc", "console")
#: Clouds whose credentials ``novakeys credentials`` prints.
OTHER_CLOUDS = ("alibaba", "tencent", "twcc")

_LISTENING = re.compile(r"^novakeys: (\w+) listening on (\S+)\s*$")


class NovakeysError(RuntimeError):
    """The binary is missing, did not start, or a control call failed."""

    def __init__(self, message, status=None, body=None):
        super().__init__(message)
        self.status = status
        self.body = body


def _executable(path):
    return path and os.path.isfile(path) and os.access(path, os.X_OK)


def find_binary(explicit=None):
    """The ``novakeys`` binary: ``explicit``, else ``$NOVAKEYS_BIN``, else the one this
    package installed (the scripts folder of this interpreter, or of the user scheme), else
    the first on PATH."""
    exe = "novakeys" + (".exe" if os.name == "nt" else "")
    if explicit:
        path = os.path.abspath(os.path.expanduser(explicit))
        if not _executable(path):
            raise NovakeysError(f"novakeys binary {path} does not exist or is not executable")
        return path
    env = os.environ.get("NOVAKEYS_BIN")
    if env:
        path = os.path.abspath(os.path.expanduser(env))
        if not _executable(path):
            raise NovakeysError(
                f"NOVAKEYS_BIN={env}: does not exist or is not executable"
            )
        return path
    places = [sysconfig.get_path("scripts")]
    user_scheme = f"{os.name}_user"
    if user_scheme in sysconfig.get_scheme_names():
        places.append(sysconfig.get_path("scripts", scheme=user_scheme))
    places.append(os.path.dirname(sys.executable))
    for folder in places:
        if folder and _executable(os.path.join(folder, exe)):
            return os.path.join(folder, exe)
    found = shutil.which(exe)
    if found:
        return os.path.abspath(found)
    raise NovakeysError(
        "no novakeys binary: not in "
        + ", ".join(p for p in places if p)
        + " nor on PATH; `pip install novakeys` (or ./python from the repository), "
        "or pass --novakeys-binary PATH / set NOVAKEYS_BIN"
    )


def _rfc3339(t):
    if t is None or isinstance(t, str):
        return t
    if isinstance(t, datetime.datetime):
        if t.tzinfo is None:
            t = t.replace(tzinfo=datetime.timezone.utc)
        return t.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
    raise TypeError(f"a time is an RFC 3339 string or a datetime, not {type(t).__name__}")


def _host_port(url):
    return urllib.parse.urlsplit(url).netloc


class Server:
    """One ``novakeys serve --db :memory:`` with every front on a free port.

    ``urls`` maps each front (``compute``, ``identity``, ``alibaba``, ``tencent``, ``twcc``,
    ``console``) to ``http://127.0.0.1:PORT``; ``clouds_yaml`` is a clouds.yaml with one
    entry per fixture user (``connect(user)`` uses it); the methods below drive the
    ``/_novakeys`` controls."""

    def __init__(self, binary, proc, urls, workdir, log_path, fixtures=None, seed=None):
        self.binary = binary
        self.proc = proc
        self.urls = urls
        self.workdir = workdir
        self.log_path = log_path
        self.fixtures = fixtures
        self.seed = seed
        self._credentials = {}
        self.clouds_yaml = os.path.join(workdir, "clouds.yaml")
        with open(self.clouds_yaml, "w") as f:
            f.write(self._offline("clouds-yaml", "--identity-bind", _host_port(urls["identity"])))
        #: fixture user name -> its clouds.yaml entry (``novakeys`` for demo,
        #: ``novakeys-<name>`` for the others)
        self.clouds = self._read_clouds()

    # ----- start and stop

    @classmethod
    def start(cls, binary=None, seed=None, fixtures=None, extra_args=(), workdir=None,
              timeout=60.0):
        """Starts the server and waits for all its listening lines."""
        binary = find_binary(binary)
        workdir = workdir or tempfile.mkdtemp(prefix="novakeys-")
        os.makedirs(workdir, exist_ok=True)
        if fixtures is not None:
            fixtures = os.path.abspath(fixtures)
        args = [binary, "serve", "--db", ":memory:"]
        for front in FRONTS:
            args += [f"--{front}-bind", "127.0.0.1:0"]
        if seed is not None:
            args += ["--seed", str(int(seed))]
        if fixtures is not None:
            args += ["--fixtures", fixtures]
        args += list(extra_args)
        env = dict(os.environ)
        env.pop("NOVAKEYS_SINGLE_PORT", None)  # the fronts are on ports of their own here
        log_path = os.path.join(workdir, "novakeys.log")
        log = open(log_path, "wb")
        try:
            proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
                env=env, text=True, bufsize=1,
            )
        finally:
            log.close()
        lines = queue.Queue()

        def drain():
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=drain, name="novakeys-stdout", daemon=True).start()
        urls = {}
        deadline = time.monotonic() + timeout
        while len(urls) < len(FRONTS):
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = ""
            if line is None or line == "":
                _stop(proc)
                with open(log_path, errors="replace") as f:
                    stderr = f.read()
                why = "exited with status %s" % proc.returncode if line is None else (
                    f"printed no listening line for {sorted(set(FRONTS) - set(urls))} "
                    f"within {timeout:g}s"
                )
                raise NovakeysError(f"`{shlex.join(args)}` {why}; its stderr:\n{stderr}")
            m = _LISTENING.match(line)
            if m and m.group(1) in FRONTS:
                urls[m.group(1)] = m.group(2)
        return cls(binary, proc, urls, workdir, log_path, fixtures=fixtures, seed=seed)

    def stop(self):
        """SIGTERM, then SIGKILL after 10 s."""
        _stop(self.proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def log(self):
        """What the server wrote to stderr so far."""
        with open(self.log_path, errors="replace") as f:
            return f.read()

    # ----- addresses and clients

    @property
    def compute_url(self):
        return self.urls["compute"]

    @property
    def identity_url(self):
        return self.urls["identity"]

    @property
    def auth_url(self):
        """Keystone's ``…/v3``."""
        return self.urls["identity"] + "/v3"

    def cloud(self, user="demo"):
        """The clouds.yaml entry of a fixture user."""
        try:
            return self.clouds[user]
        except KeyError:
            raise NovakeysError(
                f"no clouds.yaml entry for user {user!r} (there are {sorted(self.clouds)})"
            ) from None

    def connect(self, user="demo", **kwargs):
        """A ready ``openstack.connection.Connection`` as a fixture user (``demo``, ``admin``,
        ``reader``, ...); ``kwargs`` go to openstacksdk's config (e.g.
        ``compute_api_version="2.92"``). No ``OS_*`` variable of the environment leaks in."""
        try:
            import openstack.config
            import openstack.connection
        except ImportError as e:
            raise NovakeysError(
                f"connect() needs openstacksdk ({e}); pip install openstacksdk"
            ) from e
        config = openstack.config.OpenStackConfig(
            config_files=[self.clouds_yaml], load_envvars=False
        )
        region = config.get_one(cloud=self.cloud(user), **kwargs)
        return openstack.connection.Connection(config=region)

    def credentials(self, cloud, user="demo"):
        """The variables ``novakeys credentials --cloud CLOUD --user USER`` exports, as a dict
        (e.g. ``ALIBABA_CLOUD_ACCESS_KEY_ID``, ``TENCENTCLOUD_SECRET_ID``, ``_TWCC_API_KEY_``),
        with the endpoint of this server."""
        if cloud not in OTHER_CLOUDS:
            raise NovakeysError(f"unknown cloud {cloud!r} (one of {', '.join(OTHER_CLOUDS)})")
        key = (cloud, user)
        if key not in self._credentials:
            text = self._offline(
                "credentials", "--cloud", cloud, "--user", user, "--db", ":memory:",
                f"--{cloud}-bind", _host_port(self.urls[cloud]),
            )
            found = {}
            for line in text.splitlines():
                if line.startswith("export "):
                    name, _, value = line[len("export "):].partition("=")
                    words = shlex.split(value)
                    found[name] = words[0] if words else ""
            self._credentials[key] = found
        return dict(self._credentials[key])

    def _offline(self, *args):
        cmd = [self.binary, *args]
        if self.fixtures is not None:
            cmd += ["--fixtures", self.fixtures]
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if r.returncode != 0:
            raise NovakeysError(f"`{shlex.join(cmd)}` failed ({r.returncode}): {r.stderr}")
        return r.stdout

    def _read_clouds(self):
        clouds, entry = {}, None
        with open(self.clouds_yaml) as f:
            for line in f:
                m = re.match(r"^  (\S+):\s*$", line)
                if m:
                    entry = m.group(1)
                m = re.match(r"^      username: (.*)$", line)
                if m and entry:
                    name = m.group(1).strip()
                    if name[:1] == "'":
                        name = name[1:-1].replace("''", "'")
                    clouds[name] = entry
        return clouds

    # ----- controls (/_novakeys on the compute listener)

    def control(self, method, path, body=None):
        """One control call; the decoded JSON answer (None for 204). Raises NovakeysError
        on any status >= 400."""
        url = self.urls["compute"] + "/_novakeys" + path
        headers = {"Accept": "application/json"}
        data = None
        if method != "GET":
            # every state-changing control needs it, even without a body
            headers["Content-Type"] = "application/json"
            if body is not None:
                data = json.dumps(body).encode()
        token = os.environ.get("NOVAKEYS_CONTROL_TOKEN")
        if token:
            headers["X-Novakeys-Control-Token"] = token
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
        except urllib.error.HTTPError as e:
            raw = e.read().decode(errors="replace")
            raise NovakeysError(
                f"{method} {url}: {e.code} {raw}", status=e.code, body=raw
            ) from None
        return json.loads(raw) if raw.strip() else None

    def reset(self):
        """Back to the fixtures: key pairs, users, tokens, journal, fault rules, the clock."""
        self.control("POST", "/reset")

    def snapshot(self, name):
        """Saves the whole state as ``name``."""
        return self.control("PUT", "/snapshots/" + urllib.parse.quote(name, safe=""))

    def restore(self, name):
        self.control("POST", "/snapshots/" + urllib.parse.quote(name, safe="") + "/restore")

    def delete_snapshot(self, name):
        self.control("DELETE", "/snapshots/" + urllib.parse.quote(name, safe=""))

    def snapshots(self):
        return self.control("GET", "/snapshots")["snapshots"]

    def fault(self, action, *, times=None, nth=None, probability=None, seed=None, **match):
        """Adds a fault rule; returns it (with its ``id``). ``action`` is a status (``503``),
        a fault name (``"quota_exceeded"``) or the action object (``{"delay_ms": 200}``);
        ``match`` keys: ``method``, ``path`` (glob), ``name``, ``user_id``, ``project_id``,
        ``microversion``."""
        if isinstance(action, int):
            action = {"status": action}
        elif isinstance(action, str):
            action = {"fault": action}
        rule = {"action": action}
        if match:
            rule["match"] = match
        for k, v in (("times", times), ("nth", nth), ("probability", probability),
                     ("seed", seed)):
            if v is not None:
                rule[k] = v
        return self.control("POST", "/faults", rule)

    def faults(self):
        return self.control("GET", "/faults")["faults"]

    def remove_fault(self, rule):
        """Removes one rule (its id, or the dict ``fault()`` returned)."""
        rid = rule["id"] if isinstance(rule, dict) else rule
        self.control("DELETE", "/faults/" + urllib.parse.quote(str(rid), safe=""))

    def clear_faults(self):
        self.control("DELETE", "/faults")

    def clock(self):
        """``{"now": ..., "frozen": bool, "seed": ...}``."""
        return self.control("GET", "/clock")

    def set_clock(self, when):
        """Freezes the clock at ``when`` (RFC 3339 string or datetime); None lets it run."""
        return self.control("POST", "/clock", {"set": _rfc3339(when)})

    def freeze(self, when=None):
        """Freezes the clock at ``when``, or where it is now."""
        if when is None:
            return self.advance(0)
        return self.set_clock(when)

    def advance(self, seconds):
        """Moves the clock by ``seconds`` (freezing it)."""
        if isinstance(seconds, datetime.timedelta):
            seconds = seconds.total_seconds()
        return self.control("POST", "/clock", {"advance_seconds": seconds})

    def journal(self, **filters):
        """The API calls the journal holds, oldest first; filters: ``method``, ``path``
        (glob), ``status`` (``404`` or ``"4xx"``), ``since`` (a seq or an RFC 3339 time)."""
        q = urllib.parse.urlencode({k: v for k, v in filters.items() if v is not None})
        return self.control("GET", "/journal" + ("?" + q if q else ""))["entries"]


def _stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout:
        try:
            proc.stdout.close()
        except OSError:
            pass
