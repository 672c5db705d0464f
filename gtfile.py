"""gt files (`path<TAB>label`) and sources TSVs: the one place names and labels are checked on their way
in and out, so a name from a label JSON or a gt line can never reach outside its folder.

Lines are split on '\\n' alone: str.splitlines() also splits on '\\r', '\\x85', U+2028 and U+2029, which a
hostile name could carry. A name or label holding any control or line/paragraph separator character is
refused, at writing as at reading.
"""
from pathlib import Path, PurePosixPath, PureWindowsPath

from charset import has_control_character, nfc
from safe_files import read_bytes


class GtLineError(ValueError):
    """A gt line that cannot be split into path and label; the message is the reason."""


def unsafe_name_reason(name):
    """Why `name` may not be used as a relative path inside a dataset folder, or None when it may."""
    if not name or not name.strip():
        return 'empty name'
    if has_control_character(name):
        return 'control character in the name'
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute() or PureWindowsPath(name).drive:
        return 'absolute path'
    if '..' in PurePosixPath(name.replace('\\', '/')).parts:
        return "'..' in the path"
    return None


def resolves_inside(root, path):
    """path resolved (symbolic links followed) when it lies under root, else None; the name itself is not
    judged (a file on disk may have a tab in its name)."""
    root = Path(root).resolve()
    candidate = (root / path).resolve()
    return candidate if root in candidate.parents else None


def path_under(root, relative):
    """root/relative resolved (symbolic links followed), or None when the name is unsafe or the path
    leaves root."""
    if unsafe_name_reason(str(relative)):
        return None
    return resolves_inside(root, relative)


def parse_gt_line(line):
    """`path<TAB>label`, or `path label` (first space) when the line has no tab -> (path, label)."""
    line = line.rstrip('\r\n')
    if not line.strip():
        raise GtLineError('empty line')
    if '\t' in line:
        path, label = line.split('\t', 1)
        if '\t' in label:
            raise GtLineError('tab inside the label')
    elif ' ' in line:
        path, label = line.split(' ', 1)
    else:
        raise GtLineError('no tab or space between path and label')
    path = path.strip()
    label = nfc(label.strip(' '))
    if not path:
        raise GtLineError('empty path')
    if has_control_character(path) or has_control_character(label):
        raise GtLineError('control character in the line')
    return path, label


def decode_lines(raw):
    """Yields (line_number, text or None when not decodable) of a file's bytes: UTF-8 (with or without a
    BOM) line by line, or UTF-16 as a whole when it starts with a UTF-16 BOM. Blank lines are passed over."""
    if raw.startswith((b'\xff\xfe', b'\xfe\xff')):
        try:
            lines = [(number, line) for number, line in enumerate(raw.decode('utf-16').split('\n'), 1)]
        except UnicodeDecodeError:
            lines = [(1, None)]
        yield from ((n, line) for n, line in lines if line is None or line.strip())
        return
    if raw.startswith(b'\xef\xbb\xbf'):
        raw = raw[3:]
    for number, raw_line in enumerate(raw.split(b'\n'), 1):
        if not raw_line.strip():
            continue
        try:
            yield number, raw_line.decode('utf-8')
        except UnicodeDecodeError:
            yield number, None


def read_gt_lines(gt_file):
    """Yields (line_number, text) of a gt file; BOMs, UTF-16, CRLF and undecodable lines handled here."""
    yield from decode_lines(read_bytes(gt_file, 'gt file'))


def tsv_line(*fields):
    """One line of tab-separated fields; a field that would break the line (tab, newline, any control
    character) is refused."""
    for field in fields:
        if has_control_character(str(field)):
            raise GtLineError(f'control character in {str(field)[:40]!r}')
    return '\t'.join(map(str, fields)) + '\n'
