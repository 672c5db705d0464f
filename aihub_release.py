"""Where AI Hub's photos and label files are, as users download them: folders (flat, or the releases'
nested trees such as `Training/[원천]Training_간판_가로형간판_원천데이터1/`) and the downloaded .zip files
themselves, several of each, mixed.

A zip is read in place, never unpacked (a release is hundreds of GB). Its member names are UTF-8 where
the zip's UTF-8 flag (bit 0x800) says so; AI Hub's zips are made on Korean Windows and carry cp949 names
without the flag (an ordinary unzip turns them into mojibake such as `媛꾪뙋_…`), so an unflagged name is
read as UTF-8 when its bytes are valid UTF-8 and as cp949 otherwise.

A photo is known by a key, the second column of the sources TSV, from which step 2 finds it again:
- one folder given: its path under that folder, as on disk (the flat flow of old, byte for byte);
- several sources, or a zip: `<name of the folder or zip>/<path inside it>`.
"""
import os
import zipfile
from collections import defaultdict
from pathlib import Path, PurePosixPath

from charset import nfc
from gtfile import has_control_character, path_under, unsafe_name_reason
from safe_files import read_bytes
from utils import UserError

IMAGE_SUFFIXES = frozenset({'.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.gif', '.webp'})
UTF8_NAME_FLAG = 0x800
MAX_MEMBER_BYTES = 1 << 30  # a zip member declaring more than this is no photo or label of a release

# The releases' own names, which synth_aihub.py writes and aihub_dataset.py reads
PRINTED_LABEL_FILE = 'printed_data_info.json'          # 한국어 글자체 이미지, printed part
TEXT_IN_THE_WILD_LABEL_FILE = 'textinthewild_data_info.json'
TEXT_IN_THE_WILD_CLASSES = ('word', 'character', 'ignored')  # annotations[].attributes.class


def zip_member_name(info):
    """A member's name as its maker meant it (see the module's docstring); '\\' read as '/'."""
    if info.flag_bits & UTF8_NAME_FLAG:
        return info.filename
    raw = info.filename.encode('cp437')  # zipfile decoded the unflagged bytes as cp437: undone exactly
    for encoding in ('utf-8', 'cp949'):
        try:
            return raw.decode(encoding).replace('\\', '/')
        except UnicodeDecodeError:
            pass
    return info.filename


class Source:
    """One --images or --labels argument: a folder or a zip file."""

    def __init__(self, path, flag, kinds='a folder nor a .zip file'):
        self.path = Path(path)
        self.label = nfc(self.path.name) or str(self.path)
        if self.path.is_dir():
            self.is_zip = False
        elif self.path.is_file() and zipfile.is_zipfile(self.path):
            self.is_zip = True
        elif self.path.exists():
            raise UserError(f'{flag} {path} is neither {kinds}')
        else:
            raise UserError(f'{flag} {path} does not exist')
        if has_control_character(self.label):
            raise UserError(f'{flag} {path}: a control character in the name')
        self._members = None  # zip: {NFC member name: ZipInfo}, listed on first use (in each worker)
        self._zip = None

    def __getstate__(self):  # sent to worker processes without the open zip
        return {**self.__dict__, '_members': None, '_zip': None}

    def _open_zip(self):
        if self._zip is None:
            try:
                self._zip = zipfile.ZipFile(self.path)
            except (OSError, zipfile.BadZipFile) as error:
                raise UserError(f'cannot read zip {self.path}: {error}') from None
        return self._zip

    def members(self):
        """{NFC path inside the zip: ZipInfo} of its files; unsafe names (absolute, '..') left out."""
        if self._members is None:
            self._members = {}
            for info in self._open_zip().infolist():
                name = nfc(zip_member_name(info))
                if not info.is_dir() and not unsafe_name_reason(name):
                    self._members.setdefault(name, info)
        return self._members

    def files(self):
        """(NFC relative path, relative path as stored) of every file in the folder or zip."""
        if self.is_zip:
            return [(name, name) for name in self.members()]
        found = []
        for folder, _, names in os.walk(self.path):
            relative = Path(folder).relative_to(self.path)
            for name in names:
                on_disk = (relative / name).as_posix() if relative.parts else name
                if not has_control_character(on_disk):
                    found.append((nfc(on_disk), on_disk))
        return found

    def read(self, relative):
        """The bytes of one file; None when it is missing; OSError (or zipfile's errors) when unreadable."""
        if self.is_zip:
            info = self.members().get(nfc(relative))
            if info is None:
                return None
            if info.file_size > MAX_MEMBER_BYTES:
                raise OSError(f'{info.file_size:,} bytes unpacked')
            return self._open_zip().read(info)
        path = self.file_path(relative)
        return path.read_bytes() if path is not None else None

    def has(self, relative):
        return nfc(relative) in self.members() if self.is_zip else self.file_path(relative) is not None

    def file_path(self, relative):
        """Folder source: the ordinary file at `relative` (symbolic links leading outside refused), or None."""
        path = path_under(self.path, relative)
        return path if path is not None and path.is_file() else None


def open_sources(paths, flag):
    """Source objects of a --images/--labels list; two of one name would make keys ambiguous."""
    sources = [Source(path, flag) for path in paths]
    labels = [source.label for source in sources]
    for label in labels:
        if labels.count(label) > 1:
            raise UserError(f'{flag}: two sources are named {label}; give each folder or zip a distinct name')
    return sources


class PhotoStore:
    """The photos under --images: keys made and read back (step 1 and step 2 share this one rule)."""

    def __init__(self, paths, flag='--images'):
        self.sources = open_sources(paths, flag)
        self.single_folder = len(self.sources) == 1 and not self.sources[0].is_zip

    def key(self, source, relative):
        return relative if self.single_folder else f'{source.label}/{relative}'

    def locate(self, key):
        """(Source, relative path) that a key names, or None."""
        if self.single_folder:
            return self.sources[0], key
        label, _, relative = key.partition('/')
        for source in self.sources:
            if source.label == nfc(label) and relative:
                return source, relative
        return None

    def index(self):
        return PhotoIndex(self)


class PhotoIndex:
    """Finds the photo a label names wherever it sits under --images: by its path, else by its file name
    in any folder, else by its file name with the extension's case ignored (`x.JPG` for `x.jpg`). A name
    found in two places is ambiguous: reported, never guessed."""

    def __init__(self, store):
        self.by_path, self.by_name, self.by_folded = defaultdict(list), defaultdict(list), defaultdict(list)
        self.photos = set()  # keys of the files with an image suffix
        for source in store.sources:
            for normalized, stored in source.files():
                key = store.key(source, stored)
                name = PurePosixPath(normalized)
                self.by_path[normalized].append(key)
                self.by_name[name.name].append(key)
                self.by_folded[folded(name.name)].append(key)
                if name.suffix.lower() in IMAGE_SUFFIXES:
                    self.photos.add(key)

    def find(self, file_name):
        """(key, None) of the photo `file_name` names; (None, [keys]) when the name is found in several
        places; (None, None) when it is nowhere."""
        name = nfc(file_name).replace('\\', '/')
        base = PurePosixPath(name).name
        for table, wanted in ((self.by_path, name), (self.by_name, base), (self.by_folded, folded(base))):
            keys = table.get(wanted)
            if keys:
                return (keys[0], None) if len(keys) == 1 else (None, keys)
        return None, None


def folded(name):
    """A file name with its extension in lower case."""
    stem, dot, suffix = name.rpartition('.')
    return f'{stem}.{suffix.lower()}' if dot and stem else name


class LabelFiles:
    """The label JSON files under --labels: JSON files, folders (searched through) and zips."""

    def __init__(self, paths, flag='--labels'):
        self.entries = []  # (display name, Source or None, relative path or file path)
        for path in paths:
            if Path(path).is_file() and not zipfile.is_zipfile(path):
                self.entries.append((str(path), None, Path(path)))
                continue
            source = Source(path, flag, kinds='a JSON file, a folder nor a .zip file')
            for normalized, stored in sorted(source.files()):
                if normalized.lower().endswith('.json'):
                    if source.is_zip or Path(source.path, stored).is_file():
                        self.entries.append((f'{source.path}/{stored}', source, stored))
            if not any(entry[1] is source for entry in self.entries):
                raise UserError(f'no .json file in {path}')

    def __len__(self):
        return len(self.entries)

    def read(self):
        """Yields (display name, bytes or the reason it could not be read)."""
        for name, source, where in self.entries:
            try:
                data = read_bytes(where, 'label file') if source is None else source.read(where)
                if data is None:
                    data = 'gone since it was listed'
            except UserError as error:
                data = str(error)
            except (OSError, zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as error:
                data = f'cannot read: {error}'
            yield name, data
