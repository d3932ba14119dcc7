"""The student's kernel in a sandbox. The grader starts every kernel through this file's launcher
(`python sandbox.py launch POLICY -- KERNEL_ARGV`), which applies the policy and execs the kernel.

Isolation levels (`Policy.isolation`):
- `full` (the default for grading; needs root and namespaces): the kernel gets
  - its own network namespace (no network at all: the grader talks to it over Unix sockets);
  - its own PID namespace, whose first process is a small init of ours: it forwards signals to the kernel,
    reaps orphans, and stops every process of the submission when together they use more memory than the
    limit (private pages added up, shared pages counted once); when the kernel ends, everything it left ends;
  - its own root file system, built from an allowlist: the system folders, the Python installation and the
    data, read-only, plus one size-limited tmpfs for everything it may write (its working folder, /tmp,
    /var/tmp, /dev/shm). Nothing else of the machine exists there: not the host's /tmp, the checkout, the
    instructor's sources, other submissions or the gradebook. Symbolic links on the way to an allowed path
    are recreated, so a symlinked virtualenv or data folder works, and so do paths with spaces;
  - an unprivileged uid (one per grading slot), with no way back to root.
- `user` (root, without namespaces): only the unprivileged uid and the limits; files are protected by their
  permissions alone and the network is reachable. The grader must be told so (--isolation user).
- `none`: limits only; the kernel runs as the grader. For the instructor's own notebooks (check, solutions) and a
  student's own machine (preflight), or an explicit `--isolation none`.
Resource limits apply at every level: memory, file size, CPU seconds, processes, no core dumps.

This file runs as a script before the kernel exists: standard library only, nothing from the package.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import shutil
import signal
import sys
import time
from dataclasses import asdict, dataclass, field

CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG = 1
STUDENT_UID_BASE, STUDENT_UIDS = 61000, 1000  # kernels run as uids 61000-61999: no system or human user has them
UID_LOCKS = "/run/autograder-kernel-uids" if os.path.isdir("/run") else "/tmp/autograder-kernel-uids"
OUT_OF_MEMORY = 86  # the launcher's exit status when the submission's processes used too much memory
WATCH_SECONDS = 0.1  # statm is cheap: ten looks a second
# What a kernel sees of the machine besides the interpreter, the data and its own folders (read-only).
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys", "/opt")
DEVICES = ("null", "zero", "full", "random", "urandom")
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
# Read by OpenMP (and so torch), MKL and OpenBLAS when they start; set from the limits' `threads`.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
PROBE_LIMITS = {"cell_seconds": 60, "notebook_seconds": 120, "memory_mb": 4096, "file_mb": 64, "processes": 512}


@dataclass
class Policy:
    """Everything the launcher applies to one kernel (written as JSON beside the kernel's folders)."""

    limits: dict  # autograder.course.policy.Limits as a dict (this file imports nothing from the package)
    workdir: str  # the kernel's working folder on the host (copied into its private file system)
    uid: int | None = None  # switch to this uid/gid (root graders only)
    isolation: str = "full"  # "full", "user" or "none"
    expose: list[str] = field(default_factory=list)  # read-only paths the kernel needs (interpreter, data)
    writable: list[str] = field(default_factory=list)  # host folders bound read-write (the kernel's sockets)
    env: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Policy:
        return cls(**json.loads(text))


# -- system calls ------------------------------------------------------------------------------------------------

_libc = None


def _lib():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _unshare(flags: int) -> None:
    _check(_lib().unshare(flags), f"unshare({flags:#x})")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    args = [s.encode() if isinstance(s, str) else s for s in (source, target, fstype, data)]
    _check(_lib().mount(args[0], args[1], args[2], ctypes.c_ulong(flags), args[3]), f"mount {source} on {target}")


def _die_with_parent() -> None:
    _lib().prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


# -- what the platform allows, probed once per grader process -------------------------------------------------


@dataclass(frozen=True)
class Capabilities:
    root: bool
    namespaces: bool  # mount, network and PID namespaces, and a private root file system
    switch_user: bool  # a kernel started as an unprivileged uid can reach its interpreter

    def supports(self, isolation: str) -> bool:
        if isolation == "full":
            return self.namespaces and self.switch_user
        if isolation == "user":
            return self.switch_user
        return True

    def why_not(self, isolation: str) -> str:
        missing = []
        if isolation in ("full", "user") and not self.root:
            missing.append("the grader is not root, so kernels cannot run as an unprivileged user")
        elif isolation in ("full", "user") and not self.switch_user:
            missing.append("a kernel running as an unprivileged user cannot reach the Python installation")
        if isolation == "full" and not self.namespaces:
            missing.append("this platform refuses mount, network or PID namespaces")
        return "; ".join(missing)


def describe(isolation: str) -> str:
    return {
        "full": "no network, a private file system, its own processes, an unprivileged user",
        "user": "an unprivileged user only (ISOLATION REDUCED: files protected by permissions, network reachable)",
        "none": "NO ISOLATION: the submission ran with the grader's own rights",
    }[isolation]


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


def _try_namespaces() -> None:
    _unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID)
    if not _works(_try_private_root):
        raise OSError("no private root")


def _try_private_root() -> None:
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    target = "/dev/shm" if os.path.isdir("/dev/shm") else "/tmp"
    _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m")
    os.mkdir(os.path.join(target, "proc"))
    _mount("proc", os.path.join(target, "proc"), "proc", MS_NOSUID | MS_NODEV)


def probe(workdir: str, expose: list[str], uid: int = STUDENT_UID_BASE) -> Capabilities:
    """Which isolation this machine allows. The user switch is tried for real: a python started through the
    launcher as the kernel's user, in the file system it would get."""
    root = os.geteuid() == 0
    namespaces = root and _works(_try_namespaces)
    switch = False
    if root:
        import subprocess
        import tempfile

        os.makedirs(workdir, exist_ok=True)
        os.chown(workdir, uid, uid)
        isolation = "full" if namespaces else "user"
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=os.path.dirname(workdir)) as f:
            f.write(Policy(dict(PROBE_LIMITS), workdir, uid=uid, isolation=isolation, expose=expose).to_json())
            f.flush()
            check = "import importlib.util as u; open(u.find_spec('ipykernel').origin).read(1)"
            command = launcher_command(f.name, [sys.executable, "-c", check])
            proc = subprocess.run(command, capture_output=True, timeout=120)
            switch = proc.returncode == 0
    return Capabilities(root=root, namespaces=namespaces, switch_user=switch)


def claim_uid():
    """A kernel uid no other grader on this machine is using, held (flock) until the returned file is closed."""
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


def kill_user(uid: int) -> None:
    """Kill every process of `uid` (what a submission left behind), from a child that becomes that user."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)  # as an unprivileged user: exactly that user's processes
        except ProcessLookupError:
            pass
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


# -- the private file system --------------------------------------------------------------------------------------


def _mirror(root: str, path: str, bound: list[str], writable: bool = False) -> None:
    """Make `path` (and the symbolic links on the way to it) exist inside `root` as on the host, bound from the
    host read-only (or read-write). `bound` lists what is already bound (a path under one needs nothing)."""
    path = os.path.abspath(path)
    parts = path.strip("/").split("/")
    host = "/"
    for i, part in enumerate(parts):
        host = os.path.join(host, part)
        inside = root + host
        if os.path.islink(host):
            if not os.path.lexists(inside):
                os.makedirs(os.path.dirname(inside), exist_ok=True)
                os.symlink(os.readlink(host), inside)
            rest = "/".join(parts[i + 1 :])
            target = os.path.realpath(host)
            _mirror(root, os.path.join(target, rest) if rest else target, bound, writable)
            return
    covered = any(path == b or path.startswith(b.rstrip("/") + "/") for b in bound)
    if not os.path.exists(path) or (covered and not writable):
        return
    bound.append(path)
    inside = root + path
    if os.path.isdir(path):
        os.makedirs(inside, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(inside), exist_ok=True)
        open(inside, "a").close()
    _mount(path, inside, None, MS_BIND | MS_REC)
    if not writable:
        _mount("none", inside, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_REC)


def build_root(policy: Policy, root: str) -> None:
    """The kernel's file system under `root` (a fresh tmpfs of the file size limit): see the module docstring."""
    size = int(policy.limits.get("file_mb", 256)) + 4  # everything it writes, plus its copied working folder
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size}m,mode=0755")
    bound: list[str] = []
    folders = [(f, False) for f in set(SYSTEM_FOLDERS) | set(policy.expose)] + [(f, True) for f in policy.writable]
    for folder, writable in sorted(folders, key=lambda item: len(item[0])):  # parents before what they contain
        _mirror(root, folder, bound, writable)
    for folder in ("tmp", "var/tmp", "dev/shm"):
        os.makedirs(os.path.join(root, folder), exist_ok=True)
        os.chmod(os.path.join(root, folder), 0o1777)
    for device in DEVICES:
        target = os.path.join(root, "dev", device)
        open(target, "a").close()
        _mount(f"/dev/{device}", target, None, MS_BIND)
    os.symlink("/proc/self/fd", os.path.join(root, "dev", "fd"))
    os.makedirs(os.path.join(root, "proc"), exist_ok=True)
    _mount("proc", os.path.join(root, "proc"), "proc", MS_NOSUID | MS_NODEV)
    work = root + os.path.abspath(policy.workdir)
    shutil.copytree(policy.workdir, work, symlinks=True, dirs_exist_ok=True)
    if policy.uid is not None:
        for folder, _, files in os.walk(work):
            os.lchown(folder, policy.uid, policy.uid)
            for name in files:
                os.lchown(os.path.join(folder, name), policy.uid, policy.uid)


# -- the launcher -------------------------------------------------------------------------------------------------


def _set_limits(limits: dict) -> None:
    mb = 1024 * 1024
    for which, value in (
        (resource.RLIMIT_DATA, int(limits["memory_mb"]) * mb),
        (resource.RLIMIT_FSIZE, int(limits["file_mb"]) * mb),
        # CPU seconds over all threads: a backstop for processes left behind, the wall clock is the real limit
        (resource.RLIMIT_CPU, 4 * int(limits["notebook_seconds"]) + 60),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(which, (value, value))
    if os.geteuid() == 0:  # RLIMIT_NPROC counts per user: meaningful for a slot's own uid
        resource.setrlimit(resource.RLIMIT_NPROC, (int(limits["processes"]), int(limits["processes"])))


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
    if policy.isolation == "full":  # its parent is our init: ipykernel would take the pid for a dead grader
        env.pop("JPY_PARENT_PID", None)
    if policy.limits.get("threads"):
        for name in THREAD_VARIABLES:
            env[name] = str(policy.limits["threads"])
    return env


def _become(policy: Policy) -> None:
    """Drop to the kernel's uid for good."""
    if policy.uid is None:
        return
    os.setgroups([])
    os.setgid(policy.uid)
    os.setuid(policy.uid)
    try:  # never exec student code with a way back to root
        os.setuid(0)
    except PermissionError:
        return
    raise SystemExit("sandbox: could not drop root privileges; refusing to start the kernel")


def _exec_kernel(policy: Policy, argv: list[str], env: dict[str, str], root: str | None) -> None:
    if root is not None:
        os.chroot(root)
    _set_limits(policy.limits)
    _become(policy)
    os.chdir(policy.workdir)
    os.umask(0o077)
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # the kernel installs its own handler
    os.execve(argv[0], argv, env)


def _memory_kb(proc: str) -> int:
    """Memory of every process under the PID namespace's /proc, init excluded (kB): their private resident pages
    added up, the pages they share (libraries, memory a fork has not written to yet) counted once. /proc/PID/statm
    costs a fixed, small amount per process, unlike smaps, whose cost grows with torch's thousands of mappings."""
    private, shared = 0, 0
    page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
    for entry in os.listdir(proc):
        if not entry.isdigit() or entry == "1":
            continue
        try:
            with open(os.path.join(proc, entry, "statm"), "rb") as f:
                fields = f.read().split()
        except OSError:  # the process ended meanwhile
            continue
        resident, mapped_shared = int(fields[1]), int(fields[2])
        private += resident - mapped_shared
        shared = max(shared, mapped_shared)
    return (private + shared) * page_kb


def _init(policy: Policy, argv: list[str], env: dict[str, str], root: str) -> None:
    """PID 1 of the submission's namespace: start the kernel, forward signals, reap, watch memory."""
    _die_with_parent()
    build_root(policy, root)
    kernel = os.fork()
    if kernel == 0:
        _exec_kernel(policy, argv, env, root)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, lambda number, _frame: os.kill(kernel, number))
    limit_kb = int(policy.limits["memory_mb"]) * 1024
    proc = os.path.join(root, "proc")
    over = False
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            os._exit(1)
        if pid == kernel:
            code = os.waitstatus_to_exitcode(status)
            os._exit(OUT_OF_MEMORY if over else (128 - code if code < 0 else code))
        if pid == 0:
            if not over and _memory_kb(proc) > limit_kb:
                over = True
                os.kill(-1, signal.SIGKILL)  # from PID 1: every other process of the namespace
            time.sleep(WATCH_SECONDS)


def launch(config_path: str, argv: list[str]) -> None:
    """Apply the policy in `config_path`, then run the kernel `argv` (never returns)."""
    with open(config_path) as f:
        policy = Policy.from_json(f.read())
    argv = _connection_copy(argv, policy.workdir, policy.uid)
    env = _kernel_env(policy)
    if policy.isolation != "full":
        _exec_kernel(policy, argv, env, None)
    root = os.path.join(os.path.dirname(os.path.abspath(config_path)), f"root-{os.getpid()}")
    os.makedirs(root, exist_ok=True)
    _unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID)
    _mount("none", "/", None, MS_REC | MS_PRIVATE)  # nothing we mount leaks back to the host
    child = os.fork()
    if child == 0:
        try:
            _init(policy, argv, env, root)
        finally:
            os._exit(1)
    # The launcher stays, as the process the kernel manager knows: it forwards signals to init and mirrors how
    # the kernel ended (a kill by a signal as the same signal, the memory limit as OUT_OF_MEMORY).
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, lambda number, _frame: os.kill(child, number))
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    code = os.waitstatus_to_exitcode(status)
    if 128 < code < 160 and code != OUT_OF_MEMORY:
        signal.signal(code - 128, signal.SIG_DFL)
        os.kill(os.getpid(), code - 128)
    os._exit(code if code >= 0 else 1)


def launcher_command(config_path: str, kernel_argv: list[str]) -> list[str]:
    """The command that starts `kernel_argv` under the policy in `config_path`."""
    return [sys.executable, os.path.abspath(__file__), "launch", config_path, "--", *kernel_argv]


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "launch" and sys.argv[3] == "--":
        launch(sys.argv[2], sys.argv[4:])
    sys.exit("usage: sandbox.py launch CONFIG -- KERNEL_ARGV...")
