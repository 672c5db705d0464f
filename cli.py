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


def positive_int(text):
    value = _number(int, text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f'{value} must be at least 1')
    return value


def non_negative_int(text):
    value = _number(int, text)
    if value < 0:
        raise argparse.ArgumentTypeError(f'{value} must be 0 or more')
    return value


def finite_float(text):
    return _number(float, text)


def positive_float(text):
    value = _number(float, text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f'{value} must be above 0')
    return value


def non_negative_float(text):
    value = _number(float, text)
    if value < 0:
        raise argparse.ArgumentTypeError(f'{value} must be 0 or more')
    return value


def fraction(text):
    """A share in (0, 1]."""
    value = _number(float, text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f'{value} must be above 0 and at most 1')
    return value


def at_least(minimum):
    def check(text):
        value = _number(int, text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f'{value} must be at least {minimum}')
        return value
    check.__name__ = f'integer >= {minimum}'
    return check


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


def unit_interval(text):
    """A share in [0, 1]."""
    value = _number(float, text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f'{value} must be between 0 and 1')
    return value


class ArgumentParser(argparse.ArgumentParser):
    """argparse with its error as one line (`prog: error: ...`, exit status 2), not the usage dump first;
    --help still shows the usage."""

    def error(self, message):
        self.exit(2, f'{self.prog}: error: {message} (see --help)\n')
