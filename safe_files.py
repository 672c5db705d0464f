"""User-named files in and out: inputs read only when they are ordinary files (a FIFO, device, socket or
folder is refused at once, never waited on), and outputs that never replace an input, a file of another
kind, or a folder the project did not fill.

    data = read_bytes(path, 'word list')                  # UserError for a FIFO, /dev/zero, a folder ...
    check_output_file(out, inputs=[model], kind='ONNX model', is_own=looks_like_onnx)
    folder = claim_output_folder(out, 'synth_aihub.py')   # new, empty, or this command's own
    check_output_file(gt, is_own=lambda p: is_recorded(p, 'aihub_dataset.py'))  # beside the user's files:
    record_files([gt], 'aihub_dataset.py')                                      # replaced only as written
    run_dir = new_folder(saved_models / name)             # name, name-2, ... made atomically
"""
import hashlib
import os
import stat
from collections import defaultdict
from pathlib import Path

from utils import UserError

OWNER_MARK = '.kocrnn-output'  # written into each folder claim_output_folder() makes: which command owns it
FILES_MARK = '.kocrnn-files'   # beside files a command writes into a folder not its own: command, name, sha256


def _kind_of(mode):
    for test, name in ((stat.S_ISDIR, 'a folder'), (stat.S_ISFIFO, 'a FIFO (named pipe)'),
                       (stat.S_ISCHR, 'a character device'), (stat.S_ISBLK, 'a block device'),
                       (stat.S_ISSOCK, 'a socket')):
        if test(mode):
            return name
    return 'not an ordinary file'


def regular_file(path, what='file'):
    """Path(path) when it names an existing ordinary file (symbolic links followed), else a one-line
    UserError saying what it is (missing, a folder, a FIFO, a device, a socket)."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise UserError(f'cannot read {what} {path}: it does not exist') from None
    except (OSError, ValueError) as error:
        raise UserError(f'cannot read {what} {path}: {getattr(error, "strerror", None) or error}') from None
    if not stat.S_ISREG(mode):
        raise UserError(f'cannot read {what} {path}: it is {_kind_of(mode)}, not an ordinary file')
    return path


def read_bytes(path, what='file', limit=None):
    """The bytes of a user-named ordinary file. Checked by stat first, then opened non-blocking and checked
    again on the open descriptor, so a name swapped for a FIFO in between still never blocks. limit: the
    most bytes accepted (a larger file is a UserError), or None."""
    path = regular_file(path, what)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0))
    except OSError as error:
        raise UserError(f'cannot read {what} {path}: {error.strerror}') from None
    with os.fdopen(descriptor, 'rb') as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise UserError(f'cannot read {what} {path}: it is {_kind_of(status.st_mode)}, not an ordinary file')
        if limit is not None and status.st_size > limit:
            raise UserError(f'{what} {path} is {status.st_size:,} bytes; at most {limit:,} are read')
        try:
            return handle.read()
        except OSError as error:
            raise UserError(f'cannot read {what} {path}: {error.strerror}') from None


def same_file(a, b):
    """True when paths a and b name one file: the same resolved path, or one file under two names (a hard
    or symbolic link)."""
    a, b = Path(a), Path(b)
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def check_output_file(output, inputs=(), what='output', kind=None, is_own=None, fix='choose another name'):
    """Refuses (one-line UserError ending in `fix`) an output file that is one of `inputs` (None entries
    are ignored) or, when `is_own` is given, an existing file for which is_own(path) is False: only a file
    of the kind this command writes (`kind`, e.g. 'kocrnn checkpoint'), from an earlier run, is replaced."""
    output = Path(output)
    for given in inputs:
        if given is not None and same_file(output, given):
            raise UserError(f'{what} {output} is the input {given}: writing it would replace the input; {fix}')
    if output.is_dir():
        raise UserError(f'{what} {output} is a folder, not a file name')
    if is_own is not None and (output.exists() or output.is_symlink()):
        if not output.is_file() or not is_own(output):
            raise UserError(f'{what} {output} exists and is not a {kind or "file"} kocrnn wrote; it is kept: '
                            f'remove it or {fix}')
    return output


def _digest(path):
    with open(path, 'rb') as handle:
        return hashlib.file_digest(handle, 'sha256').hexdigest()


def _records(mark):
    """{(command, file name): sha256} of a FILES_MARK file; {} when there is none, None when it is not such a
    record (the user's own file of that name: neither trusted nor rewritten)."""
    mark = Path(mark)
    if not mark.exists() and not mark.is_symlink():
        return {}
    records = {}
    for line in read_bytes(mark, 'kocrnn record').decode('utf-8', 'replace').splitlines():
        fields = line.split('\t')
        if len(fields) != 3 or len(fields[2]) != 64:
            return None
        records[fields[0], fields[1]] = fields[2]
    return records


def is_files_record(path):
    """True when `path` is a FILES_MARK record_files() wrote (so it may be rewritten)."""
    return _records(path) is not None


def is_recorded(path, command):
    """True when file `path` holds exactly what `command` last wrote there (see record_files)."""
    path = Path(path)
    expected = (_records(path.parent / FILES_MARK) or {}).get((command, path.name))
    try:
        return expected is not None and _digest(path) == expected
    except OSError:  # unreadable: not known to be ours
        return False


def record_files(paths, command):
    """Notes in the FILES_MARK beside each of `paths` that `command` wrote it as it now is, so a later run of
    `command` may replace it (is_recorded) while a file the user made or changed is kept. Check the mark
    first as an output of its own (check_output_file(..., is_own=is_files_record))."""
    by_folder = defaultdict(list)
    for path in map(Path, paths):
        by_folder[path.parent].append(path)
    for folder, files in by_folder.items():
        mark = folder / FILES_MARK
        check_output_file(mark, kind='kocrnn record', is_own=is_files_record)
        records = {**_records(mark), **{(command, path.name): _digest(path) for path in files}}
        temp = folder / f'{FILES_MARK}.part'
        try:
            temp.write_text(''.join(f'{c}\t{n}\t{d}\n' for (c, n), d in sorted(records.items())), encoding='utf-8')
            os.replace(temp, mark)
        except OSError as error:
            raise UserError(f'cannot write {mark}: {error.strerror}') from None


def claim_output_folder(folder, command, is_own=None, fix='give a new or empty folder'):
    """The output folder of `command` (e.g. 'synth_aihub.py'): made when missing (with an owner mark
    inside), taken when empty, and taken when not empty only if the mark says `command` made it and
    is_own(path) holds for every file in it (default: every file). Anything else is a one-line UserError,
    so an earlier run's output may be replaced but a user's own files never are."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(f'output folder {folder} is a file')
    try:
        folder.mkdir(parents=True, exist_ok=True)
        entries = [p for p in folder.rglob('*') if p.name != OWNER_MARK or p.parent != folder]
        mark = folder / OWNER_MARK
        if entries:
            owner = mark.read_text(encoding='utf-8', errors='replace').strip() if mark.is_file() else None
            if owner != command:
                raise UserError(f'output folder {folder} already holds files {command} did not write (e.g. '
                                f'{entries[0].relative_to(folder)}); {fix}')
            foreign = next((p for p in entries if not p.is_dir() and not (is_own or bool)(p)), None)
            if foreign is not None:
                raise UserError(f'output folder {folder} holds {foreign.relative_to(folder)}, which an earlier '
                                f'{command} did not write; {fix}')
        mark.write_text(command + '\n', encoding='utf-8')
    except OSError as error:
        raise UserError(f'cannot use output folder {folder}: {error.strerror}') from None
    return folder


def new_folder(base):
    """base, or base-2, base-3 ... when taken, created atomically (mkdir with exist_ok=False), so two
    processes starting at the same instant never share one."""
    base = Path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    candidate, suffix = base, 2
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            candidate = base.with_name(f'{base.name}-{suffix}')
            suffix += 1
        except OSError as error:
            raise UserError(f'cannot make folder {candidate}: {error.strerror}') from None
