"""argparse types the scripts share: numbers in their range and output paths checked before any work.

A bad value ends the script at parse time with argparse's one-line `error:` and exit status 2, before a
run folder, log or LMDB is made.
"""
import argparse
import math
from pathlib import Path


def _number(kind, text):
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f'{text!r} is not {"an integer" if kind is int else "a number"}') from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f'{text!r} is not a finite number')
    return value


def checked(kind, accept, requirement):
    """An argparse type: a `kind` number for which accept(value) holds, else '<value> must be <requirement>'."""
    def parse(text):
        value = _number(kind, text)
        if not accept(value):
            raise argparse.ArgumentTypeError(f'{value} must be {requirement}')
        return value
    parse.__name__ = f'{kind.__name__} {requirement}'
    return parse


positive_int = checked(int, lambda v: v > 0, 'at least 1')
non_negative_int = checked(int, lambda v: v >= 0, '0 or more')
positive_float = checked(float, lambda v: v > 0, 'above 0')
non_negative_float = checked(float, lambda v: v >= 0, '0 or more')
fraction = checked(float, lambda v: 0 < v <= 1, 'above 0 and at most 1')  # a share in (0, 1]
unit_interval = checked(float, lambda v: 0 <= v <= 1, 'between 0 and 1')


def at_least(minimum):
    return checked(int, lambda v: v >= minimum, f'at least {minimum}')


def dash_separated(kind):
    """dtrb's '0.5-0.5' form (--batch_ratio): each part checked by `kind`, the text kept as given."""
    def check(text):
        for part in str(text).split('-'):
            kind(part)
        return text
    check.__name__ = 'dash-separated list'
    return check


def _path(text):
    if not text or '\x00' in text:
        raise argparse.ArgumentTypeError(f'{text!r} is not a usable path')
    return Path(text)


def output_file(text):
    """A file to write: its folder must exist and it must not be a folder itself."""
    path = _path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f'{text} is a folder, not a file name')
    parent = path.parent
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f'folder {parent} does not exist' if not parent.exists() else
                                         f'{parent} is not a folder')
    return text


def output_folder(text):
    """A folder to create or reuse: nothing on its path may be a file."""
    path = _path(text)
    for part in [path, *path.parents]:
        if part.exists() and not part.is_dir():
            raise argparse.ArgumentTypeError(f'{part} is a file, not a folder')
    return text


class ArgumentParser(argparse.ArgumentParser):
    """argparse with its error as one line (`prog: error: ...`, exit status 2), not the usage dump first;
    --help still shows the usage."""

    def error(self, message):
        self.exit(2, f'{self.prog}: error: {message} (see --help)\n')
