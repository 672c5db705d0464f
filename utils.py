"""What every script shares that is not a fact of OCR: the user-error convention, logging, terminal
columns and a running mean."""
import logging
import os
import sys
import tempfile
import unicodedata
from contextlib import contextmanager
from pathlib import Path

import torch

REPO_DIR = Path(__file__).resolve().parent


class UserError(Exception):
    """A problem with the user's input: reported as one line, never as a traceback."""


def run_main(main):
    """Run a script's main(); a UserError becomes one 'error:' line and exit status 2."""
    try:
        main()
    except UserError as error:
        logging.getLogger('kocrnn').error('error: %s', error)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


def setup_logging(log_file=None, quiet=False):
    """One logger for console and (optionally) a log file, so nothing is written twice by hand.
    --quiet only quiets the console; the file keeps everything."""
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING if quiet else logging.INFO)
    handlers = [console]
    if log_file is not None:
        handlers.append(logging.FileHandler(log_file, encoding='utf-8'))
    logging.basicConfig(level=logging.INFO, format='%(message)s', handlers=handlers, force=True)
    return logging.getLogger('kocrnn')


@contextmanager
def also_log_to(path):
    """Copy the kocrnn log into another file for the duration of a block (e.g. log_dataset.txt)."""
    handler = logging.FileHandler(path, encoding='utf-8')
    logger = logging.getLogger('kocrnn')
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()


def atomic_write_bytes(data, path):
    """Write to a temp file in the same folder, fsync, rename: a kill mid-write never leaves a torn file,
    and a full disk keeps the earlier file whole (a UserError says so)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=f'.{path.name}.', dir=path.parent)
    except OSError as error:
        raise UserError(f'cannot write {path}: {error.strerror}') from None
    try:
        with os.fdopen(handle, 'wb') as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, 0o666 & ~_current_umask())  # mkstemp makes 0600; keep the usual permissions
        os.replace(temp_name, path)
    except BaseException as error:
        Path(temp_name).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise UserError(f'cannot write {path}: {error.strerror or error}; the previous {path.name} is kept') from None
        raise


def _current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def display_width(text):
    """Terminal columns: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in 'WF' else 1 for c in text)


UNSAFE_CATEGORIES = {'Cc', 'Zl', 'Zp'}  # control characters (tab, newlines, NUL, \x85, ...), U+2028, U+2029
LOG_CELL_WIDTH = 120  # terminal columns a log table cell shows; a longer text is cut with an ellipsis


def log_cell(text, width=LOG_CELL_WIDTH):
    """text as one table cell: control characters written as escapes (a tab or a newline in a file name
    would split the row), and cut to `width` columns with '…' (one 10 MB label would otherwise pad every
    row of the table to its width)."""
    text = ''.join(c if unicodedata.category(c) not in UNSAFE_CATEGORIES else
                   {'\t': '\\t', '\n': '\\n', '\r': '\\r'}.get(c, f'\\u{ord(c):04x}') for c in text[:width * 2 + 8])
    if display_width(text) <= width:
        return text
    kept, used = [], 0
    for c in text:
        used += display_width(c)
        if used > width - 1:
            break
        kept.append(c)
    return ''.join(kept) + '…'


def pad(text, width):
    """text padded with spaces to `width` terminal columns (str.ljust counts a Hangul syllable as one)."""
    return text + ' ' * max(0, width - display_width(text))


class Averager:
    """Running mean of a tensor or float quantity (e.g. the loss)."""

    def __init__(self):
        self.reset()

    def add(self, value):
        """value: a float, or a tensor whose elements are each one observation."""
        if torch.is_tensor(value):
            self.n_count += value.numel()
            self.total = self.total + value.detach().float().sum()  # stays on the device: no sync per step
        else:
            self.n_count += 1
            self.total += float(value)

    def val(self):
        return float(self.total) / self.n_count if self.n_count else 0.0

    def reset(self):
        self.total = 0.0
        self.n_count = 0
