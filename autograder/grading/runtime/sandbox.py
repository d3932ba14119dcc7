"""The student's kernel in a sandbox: resource limits, no network, an unprivileged user, instructor files hidden.

The grader starts every student kernel through this file's launcher (`python sandbox.py launch CONFIG -- ARGV`),
which applies each layer the platform allows and then execs the kernel:

- resource limits (always): address space for data (RLIMIT_DATA, the memory limit; RLIMIT_AS would also count
  the gigabytes torch maps but never touches), largest file written, CPU seconds, processes, no core dumps;
- a network namespace (root, or unprivileged user namespaces): the kernel has no network at all. The grader
  talks to it over Unix sockets (jupyter's `ipc` transport), which need no network;
- a mount namespace: private empty /tmp, /var/tmp and /dev/shm, and every instructor path (source/ with the
  hidden tests, the gradebook, build/, .git, the grader's scratch folders, the output folder) covered by an
  empty read-only tmpfs (folders) or /dev/null (files);
- an unprivileged user (root graders only): one uid per worker slot (no /etc/passwd entry needed), so
  kernels of two slots cannot signal or read each other, and everything it can write is its own folder.

This file is also run as a script by the launcher, before the kernel exists: it imports only the standard
library and nothing from the `autograder` package.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys
from dataclasses import asdict, dataclass, field

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x00020000, 0x10000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 4096, 16384, 1 << 18
STUDENT_UID_BASE, STUDENT_UIDS = 61000, 1000  # kernels run as uids 61000-61999: no system or human user has them
UID_LOCKS = "/tmp/autograder-kernel-uids"  # the grader's own /tmp (kernels get a private one)


def _private_tmp() -> tuple[str, ...]:
    """Folders each kernel gets an empty private copy of. One that holds this checkout or the interpreter (a
    clone under /tmp, say) stays shared, or the kernel could not reach its own python and working folder."""
    here = [
        os.path.realpath(sys.prefix),
        str(__import__("pathlib").Path(__file__).resolve().parents[3]),
    ]
    return tuple(t for t in ("/tmp", "/var/tmp", "/dev/shm") if not any(h == t or h.startswith(t + "/") for h in here))


PRIVATE_TMP = _private_tmp()
# What a kernel sees of the machine besides the interpreter, the data and its own folder.
SYSTEM_FOLDERS = (
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc",
    "/proc",
    "/dev",
    "/sys",
    "/tmp",
    "/var/tmp",
)
# Environment passed to the student's kernel: nothing else of the grader's (tokens, credentials) gets through.
ENV_KEEP = (
    "PATH",
    "LANG",
    "LC_ALL",
    "TZ",
    "COURSE_DATA",
    "COURSE_QUICK",
    "NBGRADER_EXECUTION",
    "MPLBACKEND",
    "PYTHONHASHSEED",
    "JPY_PARENT_PID",
    "JPY_SESSION_NAME",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
)
# The probe's own child, which only imports ipykernel.
PROBE_LIMITS = {"cell_seconds": 60, "notebook_seconds": 120, "memory_mb": 4096, "file_mb": 64, "processes": 512}
# Read by OpenMP (and so torch), MKL and OpenBLAS when they start; set from Limits.threads.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass
class Policy:
    """Everything the launcher applies to one kernel (written as JSON next to the kernel's socket folder)."""

    limits: dict  # autograder.course.policy.Limits as a dict (this file imports nothing from the package)
    workdir: str
    uid: int | None = None  # switch to this uid/gid (root graders only)
    isolate_network: bool = True
    hide: list[str] = field(default_factory=list)  # instructor paths to cover
    expose: list[str] = field(default_factory=list)  # paths the kernel's user must reach (interpreter, data)
    env: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Policy:
        return cls(**json.loads(text))


# ---------------------------------------------------------------------------------------------------------
# What the platform allows, probed once per grader process in a throw-away child.


@dataclass(frozen=True)
class Capabilities:
    root: bool
    network_namespace: bool
    mount_namespace: bool
    switch_user: bool

    def describe(self) -> str:
        parts = [
            "no network" if self.network_namespace else "network NOT isolated (the platform refuses namespaces)",
            "instructor files hidden" if self.mount_namespace else "instructor files protected by permissions only",
            "an unprivileged user" if self.switch_user else "the grader's own user (run as root to switch)",
        ]
        return ", ".join(parts)


_libc = None


def _lib():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _unshare(flags: int) -> None:
    if _lib().unshare(flags) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare({flags:#x}): {os.strerror(err)}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    args = [s.encode() if isinstance(s, str) else s for s in (source, target, fstype, data)]
    if _lib().mount(args[0], args[1], args[2], ctypes.c_ulong(flags), args[3]) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def _enter_namespaces(network: bool, mounts: bool) -> None:
    """Unshare the network and/or mount namespaces; unprivileged users go through a user namespace first."""
    flags = (CLONE_NEWNET if network else 0) | (CLONE_NEWNS if mounts else 0)
    if not flags:
        return
    if os.geteuid() == 0:
        _unshare(flags)
        return
    uid, gid = os.geteuid(), os.getegid()
    _unshare(CLONE_NEWUSER | flags)
    # Map our own ids to themselves: files keep their owners, and we keep the namespace's capabilities
    # (enough to mount) until the kernel is exec'd.
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)


def _works(fn) -> bool:
    """Whether `fn` succeeds in a forked child (which then exits): namespaces are tried without touching us."""
    pid = os.fork()
    if pid == 0:
        try:
            fn()
            os._exit(0)
        except BaseException:  # noqa: BLE001 -- any failure means "not available"
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _mount_private_tmp() -> None:
    _enter_namespaces(False, True)
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m")


def claim_uid():
    """A kernel uid no other grader on this machine is using, held (flock) until the returned file is closed:
    a uid's processes are all killed between submissions, so two graders must never share one."""
    import fcntl

    os.makedirs(UID_LOCKS, mode=0o700, exist_ok=True)
    for uid in range(STUDENT_UID_BASE, STUDENT_UID_BASE + STUDENT_UIDS):
        handle = open(os.path.join(UID_LOCKS, str(uid)), "w")  # noqa: SIM115 -- held open on purpose
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        return uid, handle
    raise RuntimeError(f"all {STUDENT_UIDS} kernel uids are in use (locks in {UID_LOCKS})")


def probe(workdir: str, expose: list[str], uid: int = STUDENT_UID_BASE) -> Capabilities:
    """Which layers work here. The user switch is tried for real: a python started through the launcher as the
    kernel's user, with the mounts it would get (an interpreter in a private folder needs them)."""
    root = os.geteuid() == 0
    network = _works(lambda: _enter_namespaces(True, False))
    mounts = _works(_mount_private_tmp)
    switch = False
    if root:
        import subprocess
        import tempfile

        os.makedirs(workdir, exist_ok=True)
        os.chown(workdir, uid, uid)
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=os.path.dirname(workdir)) as f:
            policy = Policy(
                dict(PROBE_LIMITS), workdir, uid=uid, isolate_network=network, expose=expose if mounts else []
            )
            f.write(policy.to_json())
            f.flush()
            # the kernel's user must reach the interpreter, the standard library and site-packages
            check = "import importlib.util as u; open(u.find_spec('ipykernel').origin).read(1)"
            cmd = launcher_command(f.name, [sys.executable, "-c", check])
            proc = subprocess.run(cmd, capture_output=True, timeout=120)
            switch = proc.returncode == 0
    return Capabilities(root=root, network_namespace=network, mount_namespace=mounts, switch_user=switch)


# ---------------------------------------------------------------------------------------------------------
# The launcher: runs as the grader's user, applies the policy, execs the kernel.


def _hide(paths: list[str]) -> None:
    _mount("none", "/", None, MS_REC | MS_PRIVATE)  # nothing we mount leaks back to the host
    for target in PRIVATE_TMP:
        if os.path.isdir(target):
            _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "size=512m,mode=1777")
    for path in paths:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=0")
        elif os.path.exists(path):
            _mount("/dev/null", path, None, MS_BIND)


def hide_all_but(root, keep) -> list[str]:
    """Entries under `root` to cover so that only the `keep` paths, and the folders leading to them, stay
    visible. Symbolic links are left alone: what they point to is covered or kept in its own place."""
    from pathlib import Path

    root, keep = Path(root), [Path(k) for k in keep]
    if not root.is_dir() or root.is_symlink() or any(k == root for k in keep):
        return []
    hidden = []
    for entry in sorted(root.iterdir()):
        if entry.is_symlink():
            continue
        on_path = [k for k in keep if k.is_relative_to(entry)]
        if not on_path:
            hidden.append(str(entry))
        elif entry not in on_path:
            hidden += hide_all_but(entry, on_path)
    return hidden


def _traversable(path: str) -> bool:
    return bool(os.stat(path).st_mode & 0o001)


def _expose(paths: list[str]) -> None:
    """Make each path reachable by any user although a folder above it is private (a python installed under
    /root, say): that folder is covered by an empty tmpfs holding only the way to the path. The rest of the
    private folder (the grader's home, its keys) stays out of sight."""
    staging_root = "/tmp"  # already a private tmpfs in this namespace
    for n, path in enumerate(paths):
        parts = os.path.realpath(path).split(os.sep)[1:]
        for depth in range(1, len(parts)):
            folder = os.sep + os.path.join(*parts[:depth])
            if _traversable(folder):
                continue
            child = os.path.join(folder, parts[depth])
            staging = os.path.join(staging_root, f".expose-{os.getpid()}-{n}-{depth}")
            os.mkdir(staging)
            _mount(child, staging, None, MS_BIND | MS_REC)
            _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "size=4k,mode=0755")
            os.mkdir(child, 0o755)
            _mount(staging, child, None, MS_BIND | MS_REC)
            if _lib().umount2(staging.encode(), 2) != 0:  # MNT_DETACH
                raise OSError(ctypes.get_errno(), f"umount {staging}")
            os.rmdir(staging)


def _set_limits(limits: dict) -> None:
    mb = 1024 * 1024
    wall = limits["notebook_seconds"]
    for which, value in (
        (resource.RLIMIT_DATA, limits["memory_mb"] * mb),
        (resource.RLIMIT_FSIZE, limits["file_mb"] * mb),
        # CPU seconds over all threads: a backstop for processes left behind, the wall clock is the real limit
        (resource.RLIMIT_CPU, 4 * wall + 60),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(which, (value, value))
    if os.geteuid() == 0:  # RLIMIT_NPROC counts per user: only meaningful for a slot's own uid
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))


def _connection_copy(argv: list[str], workdir: str, uid: int | None) -> list[str]:
    """jupyter writes the connection file readable by the grader only: give the kernel its own copy."""
    if "-f" not in argv:
        return argv
    i = argv.index("-f") + 1
    with open(argv[i]) as f:
        info = f.read()
    copy = os.path.join(workdir, ".kernel-connection.json")
    fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(info)
    if uid is not None:
        os.chown(copy, uid, uid)
    return [*argv[:i], copy, *argv[i + 1 :]]


def _kernel_env(policy: Policy) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ENV_KEEP}
    env.update(policy.env)
    env.update(
        HOME=policy.workdir,
        TMPDIR="/tmp",
        MPLCONFIGDIR=os.path.join(policy.workdir, ".matplotlib"),
        PYTHONNOUSERSITE="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.setdefault("LANG", "C.UTF-8")
    if policy.limits.get("threads"):
        for name in THREAD_VARIABLES:
            env[name] = str(policy.limits["threads"])
    return env


def launch(config_path: str, argv: list[str]) -> None:
    """Apply the policy in `config_path` to this process, then exec the kernel `argv` (never returns)."""
    with open(config_path) as f:
        policy = Policy.from_json(f.read())
    argv = _connection_copy(argv, policy.workdir, policy.uid)  # before /tmp, where it may be, is covered
    mounts = bool(policy.hide or policy.expose)
    _enter_namespaces(policy.isolate_network, mounts)
    if mounts:
        _hide(policy.hide)
        _expose(policy.expose)
    env = _kernel_env(policy)
    _set_limits(policy.limits)
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # the kernel installs its own handler
    if policy.uid is not None:
        os.setgroups([])
        os.setgid(policy.uid)
        os.setuid(policy.uid)
        try:  # never exec student code with a way back to root
            os.setuid(0)
        except PermissionError:
            pass
        else:
            raise SystemExit("sandbox: could not drop root privileges; refusing to start the kernel")
    os.chdir(policy.workdir)
    os.umask(0o077)
    os.execve(argv[0], argv, env)


def kill_user(uid: int) -> None:
    """Kill every process of `uid` (what a submission left behind), from a child that becomes that user."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)  # as an unprivileged user: exactly that user's processes
        except ProcessLookupError:  # nothing to kill
            pass
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def launcher_command(config_path: str, kernel_argv: list[str]) -> list[str]:
    """The command that starts `kernel_argv` under the policy in `config_path`."""
    return [sys.executable, os.path.abspath(__file__), "launch", config_path, "--", *kernel_argv]


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "launch" and sys.argv[3] == "--":
        launch(sys.argv[2], sys.argv[4:])
    sys.exit("usage: sandbox.py launch CONFIG -- KERNEL_ARGV...")
