# A client's YAML config (Patroni's, vip-manager's), located, read and replaced as the user who may
# write it: python3 -c SCRIPT locate|read|write PATH
#
#   locate  prints {"target", "user", "group", "mode", "writer", "refused"} of the file PATH leads to
#           (null: no such file); refused is null, or why nobody writes it
#   read    prints its content as one JSON string
#   write   replaces it by the bytes on stdin: a new file in its folder (a fresh name, created
#           exclusively), with its owner, group and mode, renamed over it
#
# Root resolves PATH one component at a time. A folder on the way that another user can change
# (owned by that user, or writable by a group or by everyone, but for a sticky folder's entries of
# root's) lets that user point the way elsewhere, and swap any file root makes in it for a link.
# The file is then read and written as its owner, with the owner's rights only, never as root; a
# file of root's reached that way is refused. A way that only root can change is root's to use.
import grp
import json
import os
import pwd
import stat
import sys
import tempfile


def changer(folder, entry):
    """Who besides root can replace an entry of this folder (their stat results): a user, a group,
    everyone, or None."""
    mode = folder.st_mode
    if folder.st_uid != 0:
        return user_name(folder.st_uid)
    if not mode & (stat.S_IWOTH | stat.S_IWGRP):
        return None
    if mode & stat.S_ISVTX and entry is not None:  # only an entry's owner may rename it
        return None if entry.st_uid == 0 else user_name(entry.st_uid)
    return "every user" if mode & stat.S_IWOTH else "the group " + group_name(folder.st_gid)


def user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def group_name(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def resolve(path):
    """(the file path leads to, the first folder on the way another user can change and who, or
    (None, None)); a missing file raises FileNotFoundError."""
    current, pending, hops = "/", [part for part in path.split("/") if part not in ("", ".")], 0
    open_folder, who = None, None
    while pending:
        name = pending.pop(0)
        if name == "..":
            current = os.path.dirname(current)
            continue
        entry = os.path.join(current, name)
        info = os.lstat(entry)
        if who is None:
            who = changer(os.lstat(current), info)
            open_folder = current if who else None
        if stat.S_ISLNK(info.st_mode):
            hops += 1
            if hops > 40:
                raise OSError(f"{path}: too many links")
            link = os.readlink(entry)
            if link.startswith("/"):
                current = "/"
            pending = [part for part in link.split("/") if part not in ("", ".")] + pending
            continue
        current = entry
    return current, open_folder, who


def locate(path):
    try:
        target, folder, who = resolve(path)
        info = os.stat(target)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    found = {
        "target": target,
        "user": user_name(info.st_uid),
        "group": group_name(info.st_gid),
        "mode": f"{stat.S_IMODE(info.st_mode):o}",
        "writer": "root",
        "refused": None,
    }
    if who is None:
        return found
    if info.st_uid == 0:
        found["refused"] = (
            f"{path} leads to {target}, a file of root's, through {folder}, which {who} can change: etcdkit does not write it as "
            f"root. Point {path} at a file of the user the client runs as, or make {folder} root's alone "
            f"(chown root {folder}; chmod go-w {folder})"
        )
        return found
    found["writer"] = found["user"]
    return found


def as_writer(found, work):
    """work() as the writer of the file: in a child process with the writer's user, groups and
    rights when that is not the user running this."""
    try:
        account = pwd.getpwnam(found["writer"])
        uid, gid, groups = account.pw_uid, account.pw_gid, os.getgrouplist(account.pw_name, account.pw_gid)
    except KeyError:  # an owner without an account: its number, and the file's group alone
        uid, gid = int(found["writer"]), os.stat(found["target"]).st_gid
        groups = [gid]
    if uid == os.geteuid():
        work()
        return
    sys.stdout.flush()
    child = os.fork()
    if child == 0:
        try:
            os.setgroups(groups)
            os.setgid(gid)
            os.setuid(uid)
            work()
            sys.stdout.flush()
            os._exit(0)
        except Exception as error:  # whatever stops the child is its answer
            sys.stderr.write(f"{error}\n")
            sys.stderr.flush()
            os._exit(1)
    _, status = os.waitpid(child, 0)
    if status != 0:
        sys.exit(1)


def read(found):
    with open(found["target"], "rb") as file:
        sys.stdout.write(json.dumps(file.read().decode("utf-8")) + "\n")


def write(found, data):
    target = found["target"]
    folder = os.path.dirname(target)
    info = os.stat(target)
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".etcdkit-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            if os.geteuid() == 0:
                os.fchown(file.fileno(), info.st_uid, info.st_gid)
            elif os.fstat(file.fileno()).st_gid != info.st_gid:
                os.fchown(file.fileno(), -1, info.st_gid)
            os.fchmod(file.fileno(), stat.S_IMODE(info.st_mode))
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def main(action, path):
    found = locate(path)
    if action == "locate":
        print(json.dumps(found))
        return
    if found is None:
        sys.exit(f"{path} does not lead to a file")
    if found["refused"]:
        sys.exit(found["refused"])
    if action == "read":
        as_writer(found, lambda: read(found))
    elif action == "write":
        data = sys.stdin.buffer.read()
        as_writer(found, lambda: write(found, data))
    else:
        sys.exit(f"unknown action {action}")


main(sys.argv[1], sys.argv[2])
