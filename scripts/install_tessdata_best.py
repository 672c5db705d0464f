"""Install Tesseract's stronger Korean and English models (tessdata_best, the int8 LSTM models) for the
accuracy bench's second Tesseract column (set-up step, run by `make setup`; not part of test or demo).

Debian's tesseract-ocr-kor holds the fast models; the best ones come in npm's @tesseract.js-data/kor and
/eng packages (folder 4.0.0_best_int, gzipped). This script fetches each pinned package with `npm pack`
into a temporary folder, gunzips its model into --output, checks that Tesseract lists the language there,
and records what it wrote (safe_files.FILES_MARK): a second run with the models present does nothing, and
a file of that name it did not write is never replaced.

    sudo .venv/bin/python scripts/install_tessdata_best.py     # /usr/local/share/tessdata_best
    .venv/bin/python bench/bench_accuracy.py ../shared/real_dev --tesseract \
        --tessdata /usr/local/share/tessdata_best
"""
import argparse
import gzip
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cli import output_folder  # noqa: E402
from npm_packages import NpmError, npm_pack  # noqa: E402
from safe_files import check_output_file, is_recorded, record_files  # noqa: E402
from utils import UserError, atomic_write_bytes, run_main, setup_logging  # noqa: E402

log = logging.getLogger('kocrnn')

LANGUAGES = ('kor', 'eng')
PACKAGE_VERSION = '1.0.0'  # pinned, so every machine reads with the same model
MODEL_FOLDER = '4.0.0_best_int'
MAX_MODEL_BYTES = 100 * 2 ** 20  # kor unpacks to 2.1 MB, eng to 5.0 MB: more is not the package pinned
COMMAND = 'install_tessdata_best.py'


def default_output():
    if os.geteuid() == 0:
        return Path('/usr/local/share/tessdata_best')
    return Path.home() / '.local' / 'share' / 'tessdata_best'


def model_bytes(tarball, language):
    """The unpacked <language>.traineddata of a package tarball."""
    member_name = f'package/{MODEL_FOLDER}/{language}.traineddata.gz'
    try:
        with tarfile.open(tarball) as tar:
            member = tar.getmember(member_name)
            if not member.isfile() or member.size > MAX_MODEL_BYTES:
                raise UserError(f'{tarball.name}: {member_name} is not a model file')
            with gzip.open(tar.extractfile(member)) as packed:
                data = packed.read(MAX_MODEL_BYTES + 1)
    except KeyError:
        raise UserError(f'{tarball.name} has no {member_name}') from None
    except (tarfile.TarError, OSError, EOFError) as error:
        raise UserError(f'{tarball.name}: unreadable package ({error})') from None
    if len(data) > MAX_MODEL_BYTES:
        raise UserError(f'{tarball.name}: {member_name} unpacks to more than {MAX_MODEL_BYTES >> 20} MB')
    return data


def listed_languages(tessdata, tesseract='tesseract'):
    """The languages Tesseract finds in folder `tessdata`."""
    result = subprocess.run([tesseract, '--tessdata-dir', str(tessdata), '--list-langs'], capture_output=True,
                            text=True, timeout=60)
    return set(result.stdout.split()[1:]) if result.returncode == 0 else set()  # first line is a header


def install(language, output, npm='npm'):
    """Fetches and writes output/<language>.traineddata; returns its size in bytes."""
    target = output / f'{language}.traineddata'
    check_output_file(target, what='model file', kind='tessdata model',
                      is_own=lambda path: is_recorded(path, COMMAND), fix='give another --output')
    with tempfile.TemporaryDirectory(prefix='kocrnn-tessdata-') as work:
        try:
            tarball = npm_pack(f'@tesseract.js-data/{language}@{PACKAGE_VERSION}', Path(work), npm)
        except NpmError as error:
            raise UserError(f'@tesseract.js-data/{language}@{PACKAGE_VERSION}: {error}') from None
        data = model_bytes(tarball, language)
    atomic_write_bytes(data, target)
    record_files([target], COMMAND)
    return len(data)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--output', type=output_folder, default=None,
                        help='tessdata folder to write into (default /usr/local/share/tessdata_best as root, '
                             'else ~/.local/share/tessdata_best)')
    parser.add_argument('--npm', default='npm', help='npm command (default npm)')
    opt = parser.parse_args(argv)
    setup_logging()
    for tool, package in ((opt.npm, 'npm'), ('tesseract', 'tesseract-ocr')):
        if not shutil.which(tool):
            raise UserError(f'{tool} not found: apt-get install {package}')
    output = Path(opt.output) if opt.output else default_output()
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f'cannot create {output}: {error.strerror}') from None
    for language in LANGUAGES:
        target = output / f'{language}.traineddata'
        if target.exists() and is_recorded(target, COMMAND):
            log.info('%s present in %s', target.name, output)
            continue
        size = install(language, output, opt.npm)
        log.info('installed %s (%s of @tesseract.js-data/%s@%s, %.1f MB)', target, MODEL_FOLDER, language,
                 PACKAGE_VERSION, size / 2 ** 20)
    missing = set(LANGUAGES) - listed_languages(output)
    if missing:
        raise UserError(f'tesseract does not list {" ".join(sorted(missing))} in {output}: remove its '
                        f'.traineddata files and run {COMMAND} again')
    log.info('tesseract reads %s from %s (bench/bench_accuracy.py --tessdata %s)', '+'.join(LANGUAGES), output,
             output)


if __name__ == '__main__':
    run_main(main)
