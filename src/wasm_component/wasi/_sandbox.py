"""Guest path resolution that cannot leave its base directory.

Why this module exists: every ``*-at`` function of ``wasi:filesystem`` takes a guest path
relative to a descriptor, and WASI says that a path which starts with ``/``, or whose
resolution (``..``, symlinks) reaches outside the base, or reaches a symlink to an absolute
path, fails with ``not-permitted``. Host runtimes have been bitten here by string joining,
by ``realpath`` followed by a prefix check (a race: a component swapped for a symlink
between the check and the use), by symlinks followed by the kernel inside a multi-component
path, and by ``..`` evaluated by the kernel after a rename moved a directory out.

So resolution is done here, one component at a time, over :class:`~.vfs.Directory` objects
(each an open directory descriptor for the host): the resolver keeps its own stack of opened
directories, so ``..`` pops that stack and never asks the kernel (``..`` at the base fails);
every component is opened with ``O_NOFOLLOW | O_DIRECTORY`` relative to the previous one;
a symlink met on the way is read with ``readlinkat`` and its text spliced into the remaining
path (an absolute target fails, at most :data:`MAX_SYMLINKS` expansions, then ``loop``).
The final component is handed to the operation, which again does not follow symlinks, so
whatever a concurrent process swaps in, the operation touches only a name inside a directory
the resolver holds open.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from .vfs import Directory, FsError, open_child_dir

__all__ = ["MAX_SYMLINKS", "resolve"]

#: Symlink expansions allowed in one resolution (Linux's limit).
MAX_SYMLINKS = 40


def _push_link(pending: list[str], target: str, count: int) -> int:
    if count + 1 > MAX_SYMLINKS:
        raise FsError("loop", "too many levels of symbolic links")
    if target.startswith("/"):
        raise FsError("not-permitted", "a symlink to an absolute path leaves the preopen")
    if not target:
        raise FsError("no-entry", "an empty symlink")
    parts = target.split("/")
    if target.endswith("/"):
        parts[-1] = "."
    pending.extend(reversed(parts))
    return count + 1


@contextlib.contextmanager
def resolve(base: Directory, path: str, *, follow: bool, slash_link: str | None = None
            ) -> Iterator[tuple[Directory, str]]:  # fmt: skip
    """Resolve ``path`` against ``base``: yield ``(directory, name)`` where ``name`` is one
    component (``"."`` for the directory itself) inside ``directory``. With ``follow``, a
    symlink as the last component is expanded too. A trailing ``/`` names a directory, as in
    POSIX: the last component is followed, and if it exists it must be a directory
    (``not-directory``). Directories opened on the way are closed when the block ends
    (``base`` is not).

    ``slash_link`` is for an operation on the name itself (removing, renaming or making
    it): a trailing ``/`` then does not follow a symlink there (the operation would act on
    the link's target instead: ``rmdir("link/")`` removing the directory it points to), and
    such a symlink fails with this error code, as Linux (``not-directory`` for rmdir and
    rename, ``exist`` for mkdir, symlink and link)."""
    if not path:
        raise FsError("no-entry", "an empty path")
    if path.startswith("/"):
        raise FsError("not-permitted", "an absolute path")
    if "\0" in path:
        raise FsError("invalid", "a NUL in the path")
    must_dir = path.endswith("/")
    if must_dir:
        follow = follow or slash_link is None
        path = path.rstrip("/")
    parts = path.split("/")
    pending = parts[::-1]  # a stack: the next component is pending[-1]
    stack: list[Directory] = [base]
    links = 0
    try:
        while True:
            comp = pending.pop()
            last = not pending
            if comp in ("", ".") and not last:
                continue
            if comp == "..":
                if len(stack) == 1:
                    raise FsError("not-permitted", "`..` leaves the preopen")
                stack.pop().close()
                if last:
                    comp = "."
                else:
                    continue
            if comp == "":
                comp = "."
            top = stack[-1]
            if last:
                if follow and comp != ".":
                    target = _link_text(top, comp)
                    if target is not None:
                        links = _push_link(pending, target, links)
                        continue
                if must_dir and comp != ".":
                    kind = _kind(top, comp)
                    if kind == "symbolic-link" and slash_link is not None:
                        raise FsError(slash_link, f"{comp!r} is a symlink, not a directory")
                    if kind not in (None, "directory"):
                        raise FsError("not-directory", f"{comp!r} is not a directory")
                yield top, comp
                return
            try:
                stack.append(open_child_dir(top, comp))
            except FsError as e:
                if e.code not in ("loop", "not-directory"):
                    raise
                target = _link_text(top, comp)
                if target is None:
                    raise FsError("not-directory", comp) from None
                links = _push_link(pending, target, links)
    finally:
        for d in stack[1:]:
            d.close()


def _kind(d: Directory, name: str) -> str | None:
    """The ``descriptor-type`` of ``name`` in ``d`` (not following it), ``None`` if absent."""
    try:
        return d.lstat(name).type
    except FsError as e:
        if e.code == "no-entry":
            return None
        raise


def _link_text(d: Directory, name: str) -> str | None:
    """The target of the symlink ``name`` in ``d``, or ``None`` when it is not a symlink
    (or does not exist)."""
    if _kind(d, name) != "symbolic-link":
        return None
    return d.readlink(name)
